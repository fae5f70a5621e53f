"""`keerpunt staff reset-identity LOGIN --key KEY` pins the key it is given and no other
(security review N12): against a real Synapse, with a cross-signed counsellor."""

from __future__ import annotations

import re

import pytest
from signedjson.key import generate_signing_key

from bots.crypto.cross_signing import public_key
from bots.db.pinned_identity import PinnedIdentityStore
from keerpunt.staff import StaffError, fingerprint, reset_identity
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor

pytestmark = pytest.mark.integration


async def test_reset_identity_pins_only_the_key_the_staff_member_reads_in_their_own_element(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db, "dora")
    keys = counsellor.user.cross_signing
    assert keys is not None
    user, now = counsellor.user_id, keys.master_public
    pins = PinnedIdentityStore(bots.db)
    before = public_key(generate_signing_key("old"))
    await pins.replace(user, before, 1)  # the identity the bots knew before the reset

    # A key that is not the identity Synapse has now (an attacker's reset, a typo): refused,
    # the answer shows the identity Synapse has, and the pin stays as it was.
    other = public_key(generate_signing_key("other"))
    with pytest.raises(StaffError, match=re.escape(fingerprint(now))):
        await reset_identity(bots.config, user, fingerprint(other))
    assert await pins.get(user) == before
    with pytest.raises(StaffError):
        await reset_identity(bots.config, user, "not a key")

    # The key as Element shows it (groups of four, spaces): pinned, that one only.
    await reset_identity(bots.config, user.split(":")[0].removeprefix("@"), fingerprint(now))
    assert await pins.get(user) == now
