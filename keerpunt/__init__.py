"""Keerpunt: the shared package (CLI, configuration, Synapse rendering, processes)."""

__version__ = "0.1.0"
