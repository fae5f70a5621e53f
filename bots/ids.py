"""Matrix identifiers, declared once."""

from typing import NewType

UserID = NewType("UserID", str)
RoomID = NewType("RoomID", str)
EventID = NewType("EventID", str)
DeviceID = NewType("DeviceID", str)
