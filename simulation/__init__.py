"""Clientele's simulation engine: scenarios, customer populations, the SimPy model and its outcomes."""

__version__ = "0.1.0"
