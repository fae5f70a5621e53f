"""Images the bot makes itself (an outreach invite's QR code), uploaded when the message leaves.

A queued message may carry ``nl.keerpunt.qr`` (the text to encode) instead of an image: the
outbox sender turns it into a PNG (segno), uploads it (encrypted for an encrypted room, as
``m.image`` with ``file``; Synapse stores only ciphertext) and sends the image. Nothing about
the image is kept by the bots; the marker leaves the outbox with the message's content.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from nio import UploadResponse

from bots.matrix.ports import MatrixClient

QR_MARKER = "nl.keerpunt.qr"
QR_SCALE = 8


class UploadFailed(Exception):
    """The media upload failed; the message stays queued and is tried again."""


def qr_png(data: str) -> tuple[bytes, int]:
    """A PNG of ``data`` as a QR code, and its width (= height) in pixels."""
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=QR_SCALE, border=4)
    width = int(code.symbol_size(scale=QR_SCALE, border=4)[0])
    return out.getvalue(), width


def needs_upload(content: dict[str, Any]) -> bool:
    return QR_MARKER in content


async def with_upload(client: MatrixClient, content: dict[str, Any], encrypted: bool) -> dict[str, Any]:
    """``content`` with its QR code made and uploaded, the marker gone."""
    rest = {k: v for k, v in content.items() if k != QR_MARKER}
    png, width = qr_png(str(content[QR_MARKER]))
    resp, keys = await client.upload(
        lambda *_: io.BytesIO(png), content_type="image/png", filename="qr.png", encrypt=encrypted, filesize=len(png)
    )
    if not isinstance(resp, UploadResponse):
        raise UploadFailed(getattr(resp, "status_code", None) or "upload failed")
    info = {"mimetype": "image/png", "size": len(png), "w": width, "h": width}
    rest.update({"msgtype": "m.image", "info": info})
    if encrypted:
        assert keys is not None
        rest["file"] = {**keys, "url": resp.content_uri, "mimetype": "image/png"}
    else:
        rest["url"] = resp.content_uri
    return rest
