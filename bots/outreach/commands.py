"""Outreach workers' commands, in the outreach room or their direct room with the bot.

``!outreach link [campaign] [article] [language]`` → a link (in the visitor's language: the
chat opens in it, issue 26), a code to read aloud, its expiry and a QR
image (``nl.keerpunt.invite`` for machines); ``!outreach list`` / ``!outreach revoke <code>``;
``!outreach log <channel> <result>`` (an approach made elsewhere, counted only); ``!duty on|off``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.commands.table import Call, Command, args
from bots.db import Stores
from bots.errors import UserError
from bots.matrix.attachments import QR_MARKER
from bots.matrix.content import notice_reply
from bots.matrix.staff_rooms import StaffRooms
from bots.outreach.domain import OutreachDomain
from bots.outreach.links import Targets, invite_link
from bots.texts import Language, is_language, language_label, text
from keerpunt.base.config import Config

WORKERS = frozenset({"outreach"})


class OutreachCommands:
    def __init__(
        self,
        stores: Stores,
        domain: OutreachDomain,
        config: Config,
        targets: Targets,
        rooms: StaffRooms,
        zone: ZoneInfo,
    ) -> None:
        self.stores = stores
        self.domain = domain
        self.config = config
        self.targets = targets
        self.rooms = rooms
        self.zone = zone
        self.language: Language = config.languages.default

    @property
    def commands(self) -> tuple[Command, ...]:
        return (
            Command("outreach link", args("first:word? second:word? third:word?"), "staff", self.link, WORKERS),
            Command("outreach list", (), "staff", self.list, WORKERS),
            Command("outreach revoke", args("code:text"), "staff", self.revoke, WORKERS),
            Command(
                "outreach log",
                args("channel:word result:word"),
                "staff",
                self.log,
                WORKERS,
                help_values={
                    "channels": ", ".join(self.config.outreach.channels),
                    "results": ", ".join(self.config.outreach.results),
                },
            ),
            Command("duty", args("state:word"), "staff", self.duty, WORKERS),
        )

    def _moment(self, ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(self.zone).strftime("%d-%m-%Y %H:%M")

    async def link(self, call: Call) -> str | None:
        words = [call.values.get(name) for name in ("first", "second", "third")]
        # A language code is the invite's language (the visitor's); the other words name a
        # campaign or an article. The words' order does not matter.
        chosen = [w for w in words if w is not None and is_language(w)]
        if len(chosen) > 1:
            raise UserError("outreach.two_languages")
        rest = [w for w in words if w is not None and not is_language(w)]
        if len(rest) > 2:
            raise UserError("outreach.unknown_word", word=rest[2], campaigns="–")
        visitor_language = chosen[0] if chosen else None
        first, second = (*rest, None, None)[:2]
        made = await self.domain.new_invite(call.sender, first, second, call.now)
        link = invite_link(
            self.config,
            self.targets,
            made.code,
            campaign=made.campaign,
            article=made.article,
            language=visitor_language or self.language,
        )
        expires = datetime.fromtimestamp(made.expires_at / 1000, tz=UTC)
        body = text(
            self.language,
            "outreach.link",
            link=link,
            code=made.code,
            expires=self._moment(made.expires_at),
            campaign=made.campaign or "",
            article=made.article or "",
            visitor_language=language_label(self.language, visitor_language) if visitor_language else "",
        )
        answer = notice_reply(body, call.context.event_id, thread_root=call.context.thread_root)
        answer["nl.keerpunt.invite"] = {
            "code": made.code,
            "link": link,
            "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "language": visitor_language or self.language,
        }
        room = call.where.room_id
        await self.stores.outbox.enqueue(room, "m.room.message", answer, call.now)
        image = {"msgtype": "m.image", "body": text(self.language, "outreach.qr_body", code=made.code), QR_MARKER: link}
        await self.stores.outbox.enqueue(room, "m.room.message", image, call.now)
        return None

    async def list(self, call: Call) -> str | None:
        invites = await self.domain.open_invites(call.sender, call.now)
        if not invites:
            return text(self.language, "outreach.list_empty")
        lines = [text(self.language, "outreach.list_header", count=len(invites))]
        for n, invite in enumerate(invites, 1):
            lines.append(
                text(
                    self.language,
                    "outreach.list_line",
                    n=n,
                    made=self._moment(invite.created_at),
                    expires=self._moment(invite.expires_at),
                    campaign=invite.campaign or "",
                    article=invite.article or "",
                )
            )
        return "\n".join(lines)

    async def revoke(self, call: Call) -> str | None:
        await self.domain.revoke(call.sender, call.values["code"])
        return text(self.language, "outreach.revoked")

    async def log(self, call: Call) -> str | None:
        day = datetime.fromtimestamp(call.now / 1000, tz=UTC).astimezone(self.zone).date().isoformat()
        await self.domain.log_approach(call.values["channel"].lower(), call.values["result"].lower(), call.now, day)
        return text(self.language, "outreach.logged")

    async def duty(self, call: Call) -> str | None:
        state = call.values["state"].lower()
        if state not in ("on", "off"):
            raise UserError("outreach.duty_usage")
        await self.domain.set_duty(call.sender, state == "on")
        if state == "off":
            # Off duty, chats from the worker's invites go to the queue and the worker is told in
            # their direct room: make sure it exists.
            await self.rooms.ensure_direct(call.sender)
        return text(self.language, f"outreach.duty_{state}")
