"""A campaign's dates in the bots: no outreach link and no chat tag before it starts, no new
links after it ends (old links still count for it). The portal's side is in
tests/unit/portal/test_campaign_dates.py."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bots.db.case import CaseStore
from bots.ids import RoomID
from bots.texts import text
from keerpunt.site.campaigns import today
from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from tests.support.core import CoreBot

SLUG = "geldezel-no-way"
TIMEZONE = "Europe/Amsterdam"


@pytest.fixture
def core_config(tmp_path: Path) -> dict[str, Any]:
    """The shipped content, with the campaign starting tomorrow and ending the day after."""
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    path = content / "campaigns.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    campaign = next(c for c in data["campaigns"] if c["slug"] == SLUG)
    tomorrow = today(TIMEZONE) + dt.timedelta(days=1)
    campaign["starts"], campaign["ends"] = tomorrow.isoformat(), (tomorrow + dt.timedelta(days=1)).isoformat()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return {"portal": {"content_dir": str(content)}, "hours": {"timezone": TIMEZONE}}


def starts(core: CoreBot) -> dt.date:
    path = Path(core.config.portal.content_dir) / "campaigns.yaml"
    (campaign,) = [c for c in yaml.safe_load(path.read_text("utf-8"))["campaigns"] if c["slug"] == SLUG]
    return dt.date.fromisoformat(campaign["starts"])


async def move_to(core: CoreBot, day: dt.date) -> None:
    """Move the clock to noon of ``day`` in the platform's time zone."""
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(TIMEZONE)).timestamp()
    core.clock.advance(noon - core.clock.now())


async def test_outreach_links_only_for_a_running_campaign(core: CoreBot) -> None:
    olga = await core.add_staff("olga", role="outreach")
    room = core.bot.parts.rooms["outreach"]
    first = starts(core)
    await move_to(core, first - dt.timedelta(days=1))
    refused = text("nl", "outreach.campaign_not_running", campaign=SLUG, campaigns="–")
    assert await core.command(room, olga, f"!outreach link {SLUG}") == refused

    await move_to(core, first)
    answer = await core.command(room, olga, f"!outreach link {SLUG}")
    assert answer is not None and f"/nl/campagne/{SLUG}#invite=" in answer

    # Ended: no new links (the one made above still opens a chat until it expires).
    await move_to(core, first + dt.timedelta(days=2))
    assert await core.command(room, olga, f"!outreach link {SLUG}") == refused


async def start_with_campaign(core: CoreBot) -> str | None:
    """POST /api/v1/sessions from the campaign page; the campaign the case carries."""
    api = core.bot.api
    origin = core.config.bots.api.allowed_origins[0]
    async with TestClient(TestServer(api)) as client:
        response = await client.post(
            "/api/v1/sessions",
            json={"language": "nl", "entry": "widget", "campaign": SLUG},
            headers={"Origin": origin},
        )
        assert response.status == 201, await response.text()
        room = RoomID((await response.json())["room_id"])
    case = await CaseStore(core.db).by_room(room)
    assert case is not None
    return case.campaign


async def test_a_chat_carries_the_campaign_tag_from_its_first_day_on(core: CoreBot) -> None:
    first = starts(core)
    await move_to(core, first - dt.timedelta(days=1))
    assert await start_with_campaign(core) is None  # not started: the tag is not kept
    await move_to(core, first)
    assert await start_with_campaign(core) == SLUG
    await move_to(core, first + dt.timedelta(days=30))  # ended, from an old flyer: still counted
    assert await start_with_campaign(core) == SLUG
