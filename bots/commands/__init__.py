"""Counsellor commands in Element: one table, parsed here, answered by the handlers."""

from bots.commands.table import COMMANDS, Command, CommandError, Parsed, parse

__all__ = ["COMMANDS", "Command", "CommandError", "Parsed", "parse"]
