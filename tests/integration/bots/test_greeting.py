"""A cross-signed visitor starts a session, speaks first and reads the bot's greeting."""

from __future__ import annotations

import pytest

from bots.texts import text

from ...matrix_clients import ClientFactory
from .harness import InProcessBots
from .visitor import start_and_greet

pytestmark = pytest.mark.integration


async def test_cross_signed_visitor_decrypts_the_greeting_after_speaking_first(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session, _visitor, greeting = await start_and_greet(clients, bots.api, bots.user_id, "en")
    assert greeting.body == text("en", "greeting.welcome")
    assert session["bot"] == bots.user_id
