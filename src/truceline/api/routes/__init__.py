"""Thin routes: parse, authenticate, call one service, serialise."""
