"""A purge whose finished task Synapse forgot before it was read is still known as complete.

Keerpunt's Synapse module deletes the finished purge tasks of every room that is gone each time a
visitor is forgotten. When two purges overlap (the retention loop and another purge, or two bots
processes), one side's task can vanish between "complete" and the read of it: Synapse then
answers 404 for the delete ID (seen in CI as ``delete id '…' not found``, which stopped the
retention round). ``SynapseAdmin.delete_status`` reads such a status off the room instead.
"""

from __future__ import annotations

import asyncio

import pytest

from bots.homeserver.admin import SynapseError
from bots.ids import RoomID
from tests.support.matrix_clients import ClientFactory

pytestmark = pytest.mark.integration


async def test_a_purge_task_forgotten_by_the_module_reads_as_complete_and_an_unknown_one_still_fails(
    clients: ClientFactory,
) -> None:
    operator = await clients.user("operator", admin=True)
    admin = await clients.admin(operator.registration.access_token)
    purged = await admin.create_room({"preset": "private_chat"})
    kept = await admin.create_room({"preset": "private_chat"})
    delete_id = await admin.delete_room(purged, purge=True)
    for _ in range(300):
        if await admin.delete_status(delete_id, purged) == "complete":
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the purge did not finish")

    await admin.forget_rooms()  # what forgetting any visitor also does

    with pytest.raises(SynapseError) as raw:  # Synapse itself no longer knows the task
        await admin.request("GET", f"/_synapse/admin/v2/rooms/delete_status/{delete_id}", retry=False)
    assert raw.value.status == 404
    assert await admin.room_exists(purged) is False
    assert await admin.delete_status(delete_id, purged) == "complete"

    assert await admin.room_exists(kept) is True
    with pytest.raises(SynapseError) as unknown:  # a task lost for a room that still exists is an error
        await admin.delete_status(delete_id, RoomID(kept))
    assert unknown.value.status == 404
