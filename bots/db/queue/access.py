"""What the case room looks like in Synapse, as *applied*: who has it (moderator, invited) and
whether it is in the staff Space. The access worker makes these match the workflow: the
claiming counsellor in, a previous one out; in the Space while waiting or claimed."""

from __future__ import annotations

from dataclasses import dataclass

from mautrix.util.async_db import Database

from bots.ids import UserID


@dataclass(frozen=True)
class Access:
    case_id: str
    # Who should have the room (the claiming counsellor) and who has it now.
    claimed_by: UserID | None
    room_counsellor: UserID | None


@dataclass(frozen=True)
class SpaceLink:
    case_id: str
    # Whether the room belongs in the staff Space (while someone works on it).
    wanted: bool


def _user(value: object) -> UserID | None:
    return UserID(str(value)) if value else None


class AccessStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def to_apply(self) -> list[Access]:
        rows = await self.db.fetch(
            "SELECT case_id, claimed_by, room_counsellor FROM queue_case "
            "WHERE COALESCE(claimed_by, '') <> COALESCE(room_counsellor, '')"
        )
        return [Access(row["case_id"], _user(row["claimed_by"]), _user(row["room_counsellor"])) for row in rows]

    async def applied(self, case_id: str, counsellor: UserID | None) -> None:
        await self.db.execute("UPDATE queue_case SET room_counsellor=$2 WHERE case_id=$1", case_id, counsellor)

    async def space_to_apply(self) -> list[SpaceLink]:
        rows = await self.db.fetch(
            "SELECT case_id, stage IN ('waiting', 'claimed') AS wanted FROM queue_case "
            "WHERE (stage IN ('waiting', 'claimed')) <> space_linked"
        )
        return [SpaceLink(row["case_id"], bool(row["wanted"])) for row in rows]

    async def space_applied(self, case_id: str, linked: bool) -> None:
        await self.db.execute("UPDATE queue_case SET space_linked=$2 WHERE case_id=$1", case_id, linked)

    async def relink_all(self) -> None:
        """A new staff Space: no case room is linked into it yet (the access worker links every
        live one again)."""
        await self.db.execute("UPDATE queue_case SET space_linked=false WHERE space_linked")
