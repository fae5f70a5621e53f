"""The campaigns the platform knows: the portal's campaign pages (``content/campaigns.yaml``).

A session's ``campaign`` is kept (and counted) only when it is one of these, so no label a
client makes up is ever stored or shows up in the statistics (SECURITY.md G, flooding).
"""

from __future__ import annotations

from keerpunt.config import Config
from portal.app import content_dir
from portal.campaigns import load_campaigns
from portal.site import DEFAULT_CONTENT_DIR


def known_campaigns(config: Config) -> frozenset[str]:
    return frozenset(c.slug for c in load_campaigns(content_dir(config) or DEFAULT_CONTENT_DIR))
