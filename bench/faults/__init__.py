"""Faults under load (issue 27); run with ``python -m bench.faults``."""
