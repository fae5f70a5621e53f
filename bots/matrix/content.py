"""Matrix message contents the queue sends. Pure: texts in, content dicts out.

Visitor messages carry ``nl.keerpunt.message`` (what kind of message it is) and, for a
place in the queue, ``nl.keerpunt.queue`` (``{"position", "wait_minutes"}``) so the widget
can show it. Staff messages in the queue room mention nobody unless they mean to
(``m.mentions``), so editing a card never pings anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bots.ids import EventID
from bots.texts import Language, text

QUEUE_KEY = "nl.keerpunt.queue"
KIND_KEY = "nl.keerpunt.message"


def visitor_message(body: str, kind: str, *, position: int | None = None, minutes: int | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body, KIND_KEY: kind}
    if position is not None:
        content[QUEUE_KEY] = {"position": position, "wait_minutes": minutes}
    return content


def place_text(language: Language, position: int, minutes: int) -> str:
    if position == 1:
        return text(language, "queue.visitor.next")
    return text(language, "queue.visitor.position", position=position, minutes=minutes)


def place_message(language: Language, position: int, minutes: int, *, lead: str | None = None) -> dict[str, Any]:
    body = place_text(language, position, minutes)
    return visitor_message(f"{lead}\n{body}" if lead else body, "queue.position", position=position, minutes=minutes)


def staff_text(
    body: str, *, mention_room: bool = False, mention: str | None = None, mentions: Sequence[str] = ()
) -> dict[str, Any]:
    """A message for the queue room (``m.text``: Element notifies counsellors of these). Whoever
    it mentions is also named in ``body``, which carries everything (no ``formatted_body``)."""
    said: dict[str, Any] = {}
    if mention_room:
        said["room"] = True
    users = [*([mention] if mention else []), *(user for user in mentions if user != mention)]
    if users:
        said["user_ids"] = users
    return {"msgtype": "m.text", "body": body, "m.mentions": said}


def notice_reply(body: str, to: EventID, *, thread_root: EventID | None = None) -> dict[str, Any]:
    """A notice answering the event ``to`` (in its thread, when it was in one)."""
    relates: dict[str, Any] = {"m.in_reply_to": {"event_id": to}}
    if thread_root is not None:
        relates.update({"rel_type": "m.thread", "event_id": thread_root, "is_falling_back": False})
    return {"msgtype": "m.notice", "body": body, "m.mentions": {}, "m.relates_to": relates}


def under_card(content: dict[str, Any], relation: str, card: EventID) -> dict[str, Any]:
    """Hang ``content`` under the card: in its thread, or as a visible reply to it."""
    if relation == "thread":
        relates = {
            "rel_type": "m.thread",
            "event_id": card,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": card},
        }
    else:
        relates = {"m.in_reply_to": {"event_id": card}}
    return {**content, "m.relates_to": relates}


def card_content(body: str, number: str, stage: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body, "m.mentions": {}, "nl.keerpunt.card": {"case": number, "stage": stage}}


def card_edit(body: str, number: str, stage: str, card: EventID) -> dict[str, Any]:
    """An ``m.replace`` edit of the card; clients show ``m.new_content``."""
    new = card_content(body, number, stage)
    return {
        "msgtype": "m.text",
        "body": f"* {body}",
        "m.mentions": {},
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": card},
    }
