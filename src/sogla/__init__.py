"""Sogla: document approval and business processes."""

__version__ = "0.1.0"
