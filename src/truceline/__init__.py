"""Truceline: de-escalation zones, activity notification and deconfliction."""

__version__ = "0.1.0"
