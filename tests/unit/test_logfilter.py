"""No log line names a visitor, a room or an address (SECURITY.md G.31): the scrubbing filter."""

from __future__ import annotations

import logging

import pytest

from keerpunt.base.logfilter import ScrubAccessLog, ScrubIdentifiers, scrub


@pytest.mark.parametrize(
    ("line", "gone", "kept"),
    [
        ("joined @visitor-9f2c1e:keerpunt.nl", "visitor-9f2c1e", "joined @<user>"),
        (
            "PUT /_matrix/client/v3/rooms/%21AbCdEf%3Akeerpunt.nl/send/m.room.message/kp1",
            "AbCdEf",
            "/rooms/!<room>/send",
        ),
        ("GET /_matrix/client/v3/profile/%40visitor-77%3Alocalhost%3A8008", "visitor-77", "/profile/@<user>"),
        ("room !xYzAbC123:localhost:8448 purged", "xYzAbC123", "room !<room> purged"),
        ("PUT /_matrix/client/v3/rooms/!bjAdrQ%3Alocalhost/send/m.room.encrypted/1", "bjAdrQ", "/rooms/!<room>/send"),
        ("GET /_matrix/client/v3/profile/@visitor-5%3Alocalhost/displayname", "visitor-5", "/profile/@<user>/"),
        ("event $Rk3mZ7a9QfPzL1xY2wVu8tS0nMj4kHg6eDcBa5X_-1 failed", "Rk3mZ7a9", "event $<event> failed"),
        ("client 203.0.113.9 connected", "203.0.113.9", "client <ip> connected"),
        ("client 2001:db8:85a3::8a2e:370:7334 connected", "2001:db8", "client <ip> connected"),
        ("client ::1 connected", "::1", "client <ip> connected"),
    ],
)
def test_identifiers_and_addresses_are_replaced(line: str, gone: str, kept: str) -> None:
    scrubbed = scrub(line)
    assert gone not in scrubbed
    assert kept in scrubbed


@pytest.mark.parametrize("line", ["Case 4821 opened", "took 12:30:45", "Purged closed case 31", "version 1.163.2"])
def test_what_is_not_an_identifier_stays(line: str) -> None:
    assert scrub(line) == line


def test_a_record_and_its_traceback_are_scrubbed() -> None:
    try:
        raise RuntimeError("room !secretroom:localhost is gone")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, "f", 1, "sending to %s failed", ("@visitor-1:h",), sys.exc_info()
        )
    assert ScrubIdentifiers().filter(record)
    text = logging.Formatter().format(record)
    assert "visitor-1" not in text and "secretroom" not in text
    assert "sending to @<user> failed" in text and "RuntimeError: room !<room> is gone" in text


def test_the_access_log_keeps_no_ip_user_agent_or_user() -> None:
    args = ("203.0.113.9", "8008", "@visitor-1:h", *([0.1] * 6), 0, 10, "200", "GET", "/x", "HTTP/1.1", "Sneaky/1.0", 0)
    record = logging.LogRecord("synapse.access.http.8008", logging.INFO, "f", 1, "%s " * 17, args, None)
    assert ScrubAccessLog().filter(record)
    text = record.getMessage()
    assert "203.0.113.9" not in text and "Sneaky" not in text and "visitor-1" not in text and "/x" in text
