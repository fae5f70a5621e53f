"""Keerpunt's configuration: one YAML file, typed and frozen."""

from keerpunt.base.config.errors import EXIT_CONFIG, ConfigError
from keerpunt.base.config.loader import check_secret_files, example_text, load_config, merge, read_secret
from keerpunt.base.config.model import Config

__all__ = [
    "EXIT_CONFIG",
    "Config",
    "ConfigError",
    "check_secret_files",
    "example_text",
    "load_config",
    "merge",
    "read_secret",
]
