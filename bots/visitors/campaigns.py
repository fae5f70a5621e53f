"""The campaigns the platform knows: the portal's campaign pages (``content/campaigns.yaml``).

A session's ``campaign`` is kept (and counted) only when it is one of these, so no label a
client makes up is ever stored or shows up in the statistics (SECURITY.md G, flooding).
"""

from __future__ import annotations

from collections.abc import Mapping

from keerpunt.base.config import Config
from keerpunt.site.campaigns import Campaign, load_campaigns
from keerpunt.site.folder import content_dir


def known_campaigns(config: Config) -> Mapping[str, Campaign]:
    """Every campaign by slug, with its dates (a session's tag counts only once it has started)."""
    return {c.slug: c for c in load_campaigns(content_dir(config))}
