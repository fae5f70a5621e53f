"""What every room Keerpunt makes shares: encryption from the first event and power levels.

The visitor (level 0) may send messages and redact their own; any state change, invite, kick,
ban, room notification or reaction (reactions are unencrypted) needs a higher level.
Counsellors get a moderator level when they claim a case (DESIGN.md rules 4 and 5).
"""

from __future__ import annotations

from typing import Any

from bots.ids import UserID

ENCRYPTION = {"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_msgs": 100, "rotation_period_ms": 604800000}
BOT_LEVEL = 100
MODERATOR_LEVEL = 50


def case_power_levels(bot: UserID) -> dict[str, Any]:
    return {
        "users": {bot: BOT_LEVEL},
        "users_default": 0,
        "events_default": 0,
        "state_default": BOT_LEVEL,
        "invite": BOT_LEVEL,
        "kick": MODERATOR_LEVEL,
        "ban": MODERATOR_LEVEL,
        "redact": MODERATOR_LEVEL,
        "notifications": {"room": MODERATOR_LEVEL},
        "events": {
            "m.reaction": MODERATOR_LEVEL,
            "m.room.power_levels": BOT_LEVEL,
            "m.room.encryption": BOT_LEVEL,
            "m.room.history_visibility": BOT_LEVEL,
            "m.room.name": BOT_LEVEL,
            "m.room.topic": BOT_LEVEL,
            "m.room.avatar": BOT_LEVEL,
            "m.room.canonical_alias": BOT_LEVEL,
            "m.room.server_acl": BOT_LEVEL,
            "m.room.tombstone": BOT_LEVEL,
            "m.room.pinned_events": BOT_LEVEL,
        },
    }
