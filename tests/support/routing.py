"""Request paths and where Synapse's routing table must send them (the worker configs and every
Caddyfile are checked against these)."""

from __future__ import annotations

from keerpunt.base.routing import MAIN

# A request path of each kind the bots, the widget and Element send, and where it must go.
EXPECTED = {
    "/_matrix/client/v3/sync": "sync1",
    "/_matrix/client/r0/sync": "sync1",
    "/_matrix/client/v3/rooms/!r:s/send/m.room.encrypted/txn1": "client1",
    "/_matrix/client/v3/rooms/!r:s/state/m.room.member/@u:s": "client1",
    "/_matrix/client/v3/rooms/!r:s/join": "client1",
    "/_matrix/client/v3/join/!r:s": "client1",
    "/_matrix/client/v3/createRoom": "client1",
    "/_matrix/client/v3/keys/query": "client1",
    "/_matrix/client/v3/keys/claim": "client1",
    "/_matrix/client/v3/login": "client1",
    "/_matrix/client/versions": "client1",
    "/_matrix/client/v3/profile/@u:s/displayname": "client1",
    "/_matrix/client/v3/keys/upload": "streams1",
    "/_matrix/client/v3/keys/device_signing/upload": "streams1",
    "/_matrix/client/v3/keys/signatures/upload": "streams1",
    "/_matrix/client/v3/sendToDevice/m.room.encrypted/txn2": "streams1",
    "/_matrix/client/v3/devices/DEVICE": "streams1",
    "/_matrix/client/v3/pushrules/": MAIN,
    "/_matrix/client/v3/user/@u:s/account_data/m.direct": MAIN,
    "/_matrix/client/v3/rooms/!r:s/typing/@u:s": MAIN,
    "/_matrix/client/v3/rooms/!r:s/receipt/m.read/$e": MAIN,
    "/_matrix/client/v1/media/config": MAIN,
    "/_synapse/admin/v1/register": MAIN,  # internal router only; the public site refuses it
}

ADMIN_PATHS = [
    "/_synapse/admin/v1/register",
    "/_synapse/admin/v2/users/@u:s",
    "/_synapse/admin",
    "//_synapse/admin/v1/users",
    "/_synapse//admin/v1/users",
    "/_synapse/ADMIN/v1/users",
    "/_matrix/client/v3/admin/whois/@u:s",
    "/_matrix/client/r0/admin/whois/@u:s",
    "/_matrix/client/unstable/admin/whois/@u:s",
    "/_matrix/client/unstable/org.matrix.msc9999/admin/x",
    "/_synapse/client/keerpunt/v1/forget_user",
]
