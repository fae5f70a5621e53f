"""The session API takes a client's address from X-Forwarded-For only when the proxy sent it."""

from __future__ import annotations

from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request

from bots.visitors.http import client_address
from keerpunt.base.config import ConfigError
from tests.support.config import example_config

PROXIES = ("127.0.0.1", "172.30.0.10/32", "fd00::/64")


def _request(peer: str, forwarded: str | None = None) -> object:
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 4711)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return make_mocked_request("POST", "/api/v1/sessions", headers=headers, transport=transport)


def test_the_proxys_header_counts_only_from_the_proxy() -> None:
    assert client_address(_request("172.30.0.10", "198.51.100.0"), True, PROXIES) == "198.51.100.0"  # type: ignore[arg-type]
    assert client_address(_request("fd00::5", "2001:db8:1::"), True, PROXIES) == "2001:db8:1::"  # type: ignore[arg-type]
    # Anyone else reaching the API directly cannot choose their own address.
    assert client_address(_request("172.30.0.11", "198.51.100.0"), True, PROXIES) == "172.30.0.11"  # type: ignore[arg-type]
    assert client_address(_request("2001:db8::7", "198.51.100.0"), True, PROXIES) == "2001:db8::7"  # type: ignore[arg-type]
    # Off: the header never counts, not even from the proxy.
    assert client_address(_request("172.30.0.10", "198.51.100.0"), False, PROXIES) == "172.30.0.10"  # type: ignore[arg-type]


def test_the_last_hop_is_the_one_the_proxy_wrote() -> None:
    request = _request("127.0.0.1", "203.0.113.5, 198.51.100.0")
    assert client_address(request, True, PROXIES) == "198.51.100.0"  # type: ignore[arg-type]


def test_a_trusted_proxy_must_be_an_address_or_network() -> None:
    with pytest.raises(ConfigError) as caught:
        example_config({"bots": {"api": {"trusted_proxies": ["127.0.0.1", "proxy"]}}})
    assert caught.value.key == "bots.api.trusted_proxies[1]"
