"""The floor every process stands on: configuration, opening hours, the service lifecycle, the log
filter and Synapse's routing table.

Nothing here imports the bots, the portal, the site content or the command-line shell above it
(an import-linter contract in pyproject.toml).
"""
