"""The counsellors' loads, read from the staff table and the queue's claimed chats."""

from __future__ import annotations

from bots.counsellors.availability import Load
from bots.db import Stores
from bots.db.staff import StaffMember
from bots.ids import UserID

COUNSELLOR = "counsellor"


class Roster:
    def __init__(self, stores: Stores, default_capacity: int) -> None:
        self.stores = stores
        self.default_capacity = default_capacity

    def _load(self, member: StaffMember, chats: dict[UserID, int]) -> Load:
        capacity = member.capacity if member.capacity is not None else self.default_capacity
        return Load(member.user_id, chats.get(member.user_id, 0), capacity, member.on_break, member.languages)

    async def loads(self) -> list[Load]:
        """Every counsellor's load, in the order they were added."""
        chats = await self.stores.queue.workflow.claimed_counts()
        return [self._load(member, chats) for member in await self.stores.staff.all(COUNSELLOR)]

    async def load_of(self, user: UserID) -> Load | None:
        """A counsellor's load; None for anyone else."""
        member = await self.stores.staff.get(user)
        if member is None or member.role != COUNSELLOR:
            return None
        return self._load(member, {user: await self.stores.queue.workflow.claimed_count(user)})
