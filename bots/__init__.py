"""Keerpunt's bots: the Matrix bot service and the visitor-session HTTP API."""
