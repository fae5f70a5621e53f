"""A campaign's dates: nothing of it before it starts, listed while it runs, its page kept after.

Pages are rendered for a day; ``refresh_pages`` is what the portal's calendar task runs on the
day a campaign starts or stops running, so the tests move the day with it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from keerpunt.site.campaigns import load_campaigns, next_change, today
from keerpunt.site.content import ContentError
from portal.app import refresh_pages, seconds_until

from .conftest import ClientFactory

SLUG = "geldezel-no-way"
PAGE = f"/nl/campagne/{SLUG}"


def set_dates(content: Path, **dates: object) -> None:
    path = content / "campaigns.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    campaign = next(c for c in data["campaigns"] if c["slug"] == SLUG)
    campaign.pop("starts", None)
    campaign.pop("ends", None)
    campaign.update(dates)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


async def state(client: TestClient[web.Request, web.Application]) -> dict[str, object]:
    page = await client.get(PAGE)
    home = await (await client.get("/nl/")).text()
    sitemap = await (await client.get("/sitemap-nl.xml")).text()
    body = await page.text()
    return {
        "page": page.status,
        "noindex": page.status == 200 and '<meta name="robots" content="noindex">' in body,
        "on_home": PAGE in home,
        "in_sitemap": PAGE in sitemap,
    }


async def test_a_campaign_exists_from_its_first_day_and_keeps_its_page_after_its_last(
    make_client: ClientFactory, content_copy: Path
) -> None:
    now = today("Europe/Amsterdam")  # not at import: a run may cross midnight before this test
    starts, ends = now + dt.timedelta(days=1), now + dt.timedelta(days=10)
    set_dates(content_copy, starts=starts.isoformat(), ends=ends.isoformat())
    client = await make_client({"portal": {"content_dir": str(content_copy)}})

    # Prepared ahead of its launch: no page, no teaser, nothing in the sitemap.
    assert await state(client) == {"page": 404, "noindex": False, "on_home": False, "in_sitemap": False}

    refresh_pages(client.app, starts)
    assert await state(client) == {"page": 200, "noindex": False, "on_home": True, "in_sitemap": True}
    refresh_pages(client.app, ends)
    assert (await state(client))["on_home"] is True

    # Ended: old flyers and links still open the page (and its chat button keeps the tag),
    # but it is no longer listed or indexed.
    refresh_pages(client.app, ends + dt.timedelta(days=1))
    assert await state(client) == {"page": 200, "noindex": True, "on_home": False, "in_sitemap": False}
    page = await (await client.get(PAGE)).text()
    assert f"campaign={SLUG}" in page


async def test_a_campaign_without_dates_runs_for_good(make_client: ClientFactory, content_copy: Path) -> None:
    set_dates(content_copy)
    client = await make_client({"portal": {"content_dir": str(content_copy)}})
    assert await state(client) == {"page": 200, "noindex": False, "on_home": True, "in_sitemap": True}
    assert next_change(load_campaigns(content_copy), today("Europe/Amsterdam")) is None


def test_the_calendar_wakes_on_each_day_a_campaign_starts_or_stops(content_copy: Path) -> None:
    set_dates(content_copy, starts="2027-01-10", ends="2027-01-20")
    campaigns = load_campaigns(content_copy)
    assert next_change(campaigns, dt.date(2027, 1, 1)) == dt.date(2027, 1, 10)
    assert next_change(campaigns, dt.date(2027, 1, 10)) == dt.date(2027, 1, 21)  # the day after the last
    assert next_change(campaigns, dt.date(2027, 1, 21)) is None
    (campaign,) = [c for c in campaigns if c.slug == SLUG]
    assert [campaign.running(dt.date(2027, 1, d)) for d in (9, 10, 20, 21)] == [False, True, True, False]
    assert [campaign.published(dt.date(2027, 1, d)) for d in (9, 10, 21)] == [False, True, True]


def test_days_begin_at_midnight_in_the_platforms_time_zone() -> None:
    # 23:30 UTC on 9 January is 00:30 on the 10th in Amsterdam: that day has begun there.
    now = dt.datetime(2027, 1, 9, 23, 30, tzinfo=dt.UTC)
    assert today("Europe/Amsterdam", now) == dt.date(2027, 1, 10)
    assert seconds_until(dt.date(2027, 1, 10), "Europe/Amsterdam", now) == 0
    assert seconds_until(dt.date(2027, 1, 11), "Europe/Amsterdam", now) == 23.5 * 3600


@pytest.mark.parametrize(
    ("dates", "field", "problem"),
    [
        ({"starts": "2027-02-01", "ends": "2027-01-01"}, "ends", "before starts"),
        ({"starts": "volgende week"}, "starts", "must be a day"),
        ({"ends": 20270101}, "ends", "must be a day"),
    ],
)
def test_bad_dates_name_the_field(content_copy: Path, dates: dict[str, object], field: str, problem: str) -> None:
    set_dates(content_copy, **dates)
    with pytest.raises(ContentError, match=rf"campaigns\[0\]\.{field}: .*{problem}"):
        load_campaigns(content_copy)
