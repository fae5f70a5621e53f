"""The case room: created by the system bot with the visitor invited, encrypted from event one.

No name, no topic, no alias, no marker with content (DESIGN.md rule 5): the state holds
only what Matrix needs; the power levels are those of every Keerpunt room
(``bots.matrix.rooms``).
"""

from __future__ import annotations

from typing import Any

from bots.ids import UserID
from bots.matrix.rooms import ENCRYPTION, case_power_levels


def case_room_body(bot: UserID, visitor: UserID) -> dict[str, Any]:
    """The createRoom request for a new case room."""
    return {
        "preset": "private_chat",
        "visibility": "private",
        "invite": [visitor],
        "creation_content": {"m.federate": False},
        "initial_state": [
            {"type": "m.room.encryption", "state_key": "", "content": dict(ENCRYPTION)},
            {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "joined"}},
            {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
            {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
        ],
        "power_level_content_override": case_power_levels(bot),
    }
