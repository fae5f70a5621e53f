"""Matrix identifiers, declared once."""

from typing import NewType

UserID = NewType("UserID", str)
RoomID = NewType("RoomID", str)
EventID = NewType("EventID", str)
DeviceID = NewType("DeviceID", str)

# Every visitor account's localpart starts with this: the bots make them so, and Keerpunt's
# Synapse module limits the accounts that have it (keerpunt/synapse_config.py renders it).
VISITOR_PREFIX = "visitor-"
