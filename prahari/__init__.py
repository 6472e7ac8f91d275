"""Prahari: a bilingual Hindi + English incident-report aggregator."""

__version__ = "0.1.0"
