"""Logging filters that keep visitors out of every log (SECURITY.md G.31).

Used by Keerpunt's own processes (``keerpunt.cli`` puts ``ScrubIdentifiers`` on the root
handler) and by Synapse: `keerpunt init` copies this file next to homeserver.yaml as
``keerpunt_logfilter.py`` and log.yaml names both filters, so it works in the official
Synapse image too. It needs nothing but the standard library.

- ``ScrubAccessLog``: Synapse's access log lines keep method, status and timing but never
  the client IP, the user agent or the user; any other access-log line is dropped.
- ``ScrubIdentifiers``: in every record, Matrix user, room and event IDs (plain or
  URL-encoded, as in request paths) and IP addresses are replaced by placeholders, in the
  message and in a traceback alike. Logs keep case numbers, never who or where.
"""

import logging
import re

# Positions in synapse/http/site.py's "Processed request" format (1.163): the client IP is
# the first argument, the requester the third and the user agent the sixteenth. The e2e
# tests read the rendered log of a real Synapse, so a change in Synapse's format fails one.
_ACCESS_ARGS = 17
_IP, _REQUESTER, _USER_AGENT = 0, 2, 15

# Sigils and the colon may each be plain or percent-encoded: request paths mix them
# (Synapse logs "/rooms/!abc%3Aserver/send/…").
_AT, _BANG, _DOLLAR, _COLON = r"(?:@|%40)", r"(?:!|%21)", r"(?:\$|%24)", r"(?::|%3A)"
_SERVER = r"[A-Za-z0-9.\-]+(?:(?::|%3A)\d+)?"
_SCRUB = [
    (re.compile(_AT + r"[a-z0-9._=/+\-]+" + _COLON + _SERVER, re.IGNORECASE), "@<user>"),
    (re.compile(_BANG + r"[A-Za-z0-9._~\-]+" + _COLON + _SERVER, re.IGNORECASE), "!<room>"),
    (re.compile(_DOLLAR + r"[A-Za-z0-9+/_\-]{16,}(?:" + _COLON + _SERVER + ")?", re.IGNORECASE), "$<event>"),
    (re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), "<ip>"),
    # IPv6: four or more groups, or a "::" between hex digits (not a time like 12:30:45).
    (
        re.compile(
            r"(?<![0-9A-Za-z:])(?:[0-9a-fA-F]{1,4}:){3,7}[0-9a-fA-F]{1,4}(?![0-9A-Za-z:])"
            r"|(?<![0-9A-Za-z:])[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{1,4})*::(?:[0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{1,4}(?![0-9A-Za-z:])"
        ),
        "<ip>",
    ),
]


def scrub(text: str) -> str:
    for pattern, placeholder in _SCRUB:
        text = pattern.sub(placeholder, text)
    return text


class ScrubAccessLog(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("synapse.access"):
            return True
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS:
            scrubbed = list(args)
            for position in (_IP, _REQUESTER, _USER_AGENT):
                scrubbed[position] = "-"
            record.args = tuple(scrubbed)
            return True
        # Any other access-log line (debug "Received request" lines, a future format):
        # drop it rather than risk logging an address.
        return False


class ScrubIdentifiers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
