"""Element for staff (deploy/element-config.json) talks to our homeserver and nothing else.

Element Web merges this file over its built-in defaults (SdkConfig.DEFAULTS), and that merge
decides how each feature must be switched off:

- a key left out keeps Element's default, and some defaults point at Element's servers:
  ``integrations_ui_url``/``integrations_rest_url`` (Scalar) must be present and ``null``;
- an object default cannot be nulled out (the merge keeps the default object), so ``jitsi``
  and ``element_call`` point at hosts under ``.invalid`` (RFC 2606: never resolves), and the
  call buttons and widgets are hidden with ``UIFeature.voip``/``UIFeature.widgets``;
- analytics (``posthog``), bug reports (``bug_report_endpoint_url``, ``sentry``) are off when
  absent, so they must stay absent;
- Element still reads camelCase spellings of the keys (``roomDirectory``, ``settingDefaults``…):
  only the snake_case spelling may appear, so a second spelling cannot override the first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ELEMENT_CONFIG = REPO / "deploy" / "element-config.json"


@pytest.fixture(scope="module")
def element() -> dict[str, Any]:
    return dict(json.loads(ELEMENT_CONFIG.read_text("utf-8")))


@pytest.fixture(scope="module")
def settings(element: dict[str, Any]) -> dict[str, Any]:
    return dict(element["setting_defaults"])


def _homeserver() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "deploy" / "keerpunt.yaml").read_text("utf-8"))["homeserver"])


def _staff_host() -> str:
    """The Caddyfile's site that serves Element (``reverse_proxy element:80``)."""
    caddy = (REPO / "deploy" / "Caddyfile").read_text("utf-8")
    for host, body in re.findall(r"^(\S+) \{\n(.*?)^\}", caddy, re.MULTILINE | re.DOTALL):
        if re.search(r"reverse_proxy\s+element:", body):
            return str(host)
    raise AssertionError("no Caddyfile site serves Element")


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_only_our_homeserver(element: dict[str, Any]) -> None:
    hs = _homeserver()
    assert element["default_server_config"] == {
        "m.homeserver": {"base_url": hs["public_url"], "server_name": hs["server_name"]}
    }, "only the homeserver, and no identity server"
    for other in ("default_server_name", "default_hs_url", "default_is_url", "fallback_hs_url"):
        assert other not in element, other
    assert element["disable_custom_urls"] is True, "staff cannot point Element at another server"
    assert element["disable_guests"] is True
    assert element["disable_3pid_login"] is True
    assert element["default_federate"] is False, "rooms staff make do not federate"


def test_integration_managers_are_off(element: dict[str, Any], settings: dict[str, Any]) -> None:
    # Present and null: left out, Element falls back to Scalar (scalar.vector.im).
    assert "integrations_ui_url" in element and element["integrations_ui_url"] is None
    assert "integrations_rest_url" in element and element["integrations_rest_url"] is None
    assert element["integrations_widgets_urls"] == []
    assert "integrations_jitsi_widget_url" not in element
    assert settings["UIFeature.widgets"] is False
    assert settings["MessageComposerInput.showStickersButton"] is False, "stickers come from an integration manager"


def test_calls_jitsi_and_element_call_are_off(element: dict[str, Any], settings: dict[str, Any]) -> None:
    assert settings["UIFeature.voip"] is False, "no call buttons"
    # Element keeps its default object when given null, so point them at hosts that never resolve.
    assert element["jitsi"] == {"preferred_domain": "jitsi.invalid"}
    assert "jitsi_widget" not in element
    call = element["element_call"]
    assert urlsplit(call["url"]).hostname == "call.invalid"
    assert call["use_exclusively"] is False
    assert "guest_spa_url" not in call
    for feature in ("feature_group_calls", "feature_video_rooms", "feature_element_call_video_rooms"):
        assert element["features"][feature] is False, feature
    for other in ("widget_build_url", "audio_stream_url"):
        assert other not in element, other


def test_no_analytics_and_no_bug_reports(element: dict[str, Any], settings: dict[str, Any]) -> None:
    for key in ("posthog", "piwik", "sentry", "bug_report_endpoint_url", "uisi_autorageshake_app", "analytics_owner"):
        assert not element.get(key), key
    assert settings["UIFeature.feedback"] is False


def test_no_url_previews(settings: dict[str, Any]) -> None:
    assert settings["UIFeature.urlPreviews"] is False
    assert settings["urlPreviewsEnabled"] is False
    assert settings["urlPreviewsEnabled_e2ee"] is False


def test_no_room_directory_or_other_servers(element: dict[str, Any]) -> None:
    assert element["room_directory"] == {"servers": []}


def test_no_account_self_service_or_third_party_ids(settings: dict[str, Any]) -> None:
    # Accounts are made and disabled with `keerpunt staff`, never in Element.
    for feature in (
        "UIFeature.registration",
        "UIFeature.passwordReset",
        "UIFeature.deactivate",
        "UIFeature.identityServer",
        "UIFeature.thirdPartyId",
        "UIFeature.locationSharing",
        "UIFeature.shareSocial",
    ):
        assert settings[feature] is False, feature


def test_labs_are_closed(element: dict[str, Any]) -> None:
    assert element["show_labs_settings"] is False


def test_every_url_is_ours_or_goes_nowhere(element: dict[str, Any]) -> None:
    """No key sends Element (or a link in it) to a third party: our hosts or ``.invalid`` only."""
    hs = _homeserver()
    ours = {urlsplit(hs["public_url"]).hostname, hs["server_name"], _staff_host()}
    assert element["permalink_prefix"] == f"https://{_staff_host()}", "links to rooms are not matrix.to links"
    hosts = set()
    for value in _strings(element):
        if "://" in value:
            parts = urlsplit(value)
            assert parts.scheme == "https", value
            hosts.add(parts.hostname)
    hosts.add(element["jitsi"]["preferred_domain"])
    for host in hosts:
        assert host in ours or str(host).endswith(".invalid"), host


def test_keys_use_one_spelling(element: dict[str, Any]) -> None:
    """Element reads camelCase aliases too; with one spelling, no second key can win."""
    for key in element:
        assert key == key.lower() and " " not in key, key
    for key in ("roomDirectory", "settingDefaults", "showLabsSettings", "bugReportEndpointUrl", "integrationsUiUrl"):
        assert key not in element
