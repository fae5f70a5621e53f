"""The one user-facing error type, shared by the domains and the edges (like Synapse's api/errors).

A domain raises ``UserError`` *before* it writes anything, with a text key and its values; the
edge that received the event or request answers it in the person's language. Anything else is
a bug or an outage: logged once with its traceback and answered generically.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person who acted should hear about; ``key`` is a text key, ``values`` its fields."""

    def __init__(self, key: str, **values: str) -> None:
        self.key = key
        self.values = values
        super().__init__(key)
