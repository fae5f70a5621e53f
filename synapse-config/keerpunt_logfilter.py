"""Logging filter for Synapse: access log lines without client IP or user agent.

Copied next to homeserver.yaml by `keerpunt init` and put on Synapse's PYTHONPATH, so it
works in the official Synapse image too (it needs nothing but the standard library).
"""

import logging

# Positions in synapse/http/site.py's "Processed request" format (1.163): the client IP is
# the first argument and the user agent the sixteenth. tests/integration checks the
# rendered log of a real Synapse, so a change in Synapse's format fails a test.
_ACCESS_ARGS = 17
_IP, _USER_AGENT = 0, 15


class ScrubAccessLog(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("synapse.access"):
            return True
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS:
            scrubbed = list(args)
            scrubbed[_IP] = "-"
            scrubbed[_USER_AGENT] = "-"
            record.args = tuple(scrubbed)
            return True
        # Any other access-log line (debug "Received request" lines, a future format):
        # drop it rather than risk logging an address.
        return False
