"""Adapters: the SQL store (tables, repositories, unit of work) and migrations."""
