"""Keerpunt's knowledge portal (aiohttp + jinja2)."""
