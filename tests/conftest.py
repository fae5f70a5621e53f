"""Every fixture and the collection rules live in tests/support/plugin.py (see its docstring)."""

pytest_plugins = ["tests.support.plugin"]
