"""Keerpunt's Synapse module (loaded through ``modules:`` in homeserver.yaml).

Two jobs, both configured by `keerpunt init` (keerpunt/synapse_config.py renders the config):

1. **Visitor accounts can do nothing but chat** (SECURITY.md G.33). Accounts whose localpart
   starts with ``visitor_localpart_prefix`` (``visitor-``, bots/visitors/accounts.py) may only
   join rooms a server admin (the system bot) invited them to, and there send encrypted
   messages, join and leave. Everything else is refused by Synapse with ``M_FORBIDDEN`` and
   ``"nl.keerpunt.refused": "<what>"`` in the error body where the callback allows extra
   fields. Staff, partners and the bots are not limited. The visitor accounts are registered
   through Keerpunt's application service (``appservice-visitors.yaml``); whatever its token
   does, it does as a visitor (its own user is in the namespace too), so it is limited alike.
   Per callback:

   - ``user_may_create_room``, ``user_may_create_room_alias``, ``user_may_publish_room``,
     ``user_may_send_3pid_invite``: a visitor never.
   - ``user_may_invite``: a visitor invites nobody, and nobody but a server admin invites a
     visitor (Synapse skips this callback for admins, so the bot's invites pass);
     ``federated_user_may_invite``: no remote server invites a visitor.
   - ``user_may_join_room``: a visitor joins only a room whose creator is a server admin and
     where a server admin invited them (or where they are already joined: a profile update).
   - ``user_may_send_state_event`` and ``check_event_for_spam``: no state event at all; the
     only non-state event a visitor may send is ``m.room.encrypted``, and only in a room a
     server admin created. So no ``m.call.*``, ``org.matrix.msc3401.*`` / ``m.rtc.*`` call
     events, reactions, redactions or plaintext messages. What travels inside
     ``m.room.encrypted`` (an encrypted ``m.call.invite``, say) the server cannot see.
   - ``check_event_allowed`` (third-party rules), for what ``check_event_for_spam`` never
     sees: membership events. A visitor's own join and leave only; no reason text (it would
     sit unencrypted in the room state), no avatar, and the display name the profile holds.
   - media: ``is_user_allowed_to_upload_media_of_size`` refuses every upload by a visitor
     (413 ``M_TOO_LARGE``: that is the only answer Synapse gives for this callback) and
     ``get_media_config_for_user`` tells their client the limit is 0.
   - the profile: the module API has no callback that can refuse a profile change
     (``on_profile_update`` runs after the write). So the module wraps the profile handler's
     two entry points for every profile write (``dispatch_set_profile_field`` and
     ``dispatch_delete_profile_field``, Synapse 1.163): a visitor may set its display name to
     one of ``visitor_display_names`` (the neutral names the bots give, so the bots' one
     rename of a ready session's account to the visitor's language keeps working) and change nothing
     else; a server admin may change anything. If the pinned Synapse ever loses those
     methods, the module refuses to load rather than run without the guard, and
     tests/e2e/test_visitor_limits.py checks the refusal against a real Synapse.

   - where no callback exists (pushers, reports, device names, to-device messages, account
     data and key-backup volume): keerpunt_synapse_guards.py wraps the handler methods.

   Not limited: key queries and one-time-key claims for any user (the server must answer them
   for end-to-end encryption to work), typing notices and read receipts in their own rooms.

2. **Forgetting an erased visitor** (keerpunt_synapse_forget.py): ``POST /_synapse/client/keerpunt/v1/forget_user``
   (``{"user_id": "@visitor-…"}``, a server admin's access token): when a purged case's
   visitor account is erased, Synapse still remembers the addresses and user agents that
   account used (``user_ips``, kept up to ``user_ips_max_age``) and, until deactivation, its
   devices. This endpoint deletes those rows for a deactivated account at once (SECURITY.md
   G.30), so a purge leaves no address behind. ``POST …/forget_rooms`` (``{}``) deletes the
   same kind of rows for every room that no longer exists, without a user: the bots call it
   after they purge a retired staff Space.

Copied next to homeserver.yaml by `keerpunt init` and put on Synapse's PYTHONPATH, like the
log filter. Besides the module API it uses two private parts of the pinned Synapse: the
client-IP store's pending batch (so rows written a moment after deactivation cannot come
back) and the profile handler (above); tests/e2e checks both against a real Synapse. It logs
no user, room or event ID.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from keerpunt_synapse_forget import FORGET_PATH, FORGET_ROOMS_PATH, ForgetRooms, ForgetUser
from keerpunt_synapse_guards import REFUSED, VisitorGuards
from synapse.api.errors import Codes, SynapseError
from synapse.module_api import NOT_SPAM, EventBase, ModuleApi
from synapse.module_api.errors import ConfigError

logger = logging.getLogger(__name__)

# The only event a visitor sends that the server can see the type of: everything they say
# travels encrypted. Membership (join, leave) is checked on its own, see check_event_allowed.
VISITOR_EVENT_TYPES = frozenset({"m.room.encrypted"})
CREATE = ("m.room.create", "")
MEMBER = "m.room.member"

Refusal = tuple[Codes, dict[str, Any]]


class KeerpuntModule:
    def __init__(self, config: dict[str, Any], api: ModuleApi) -> None:
        self.api = api
        api.register_web_resource(FORGET_PATH, ForgetUser(api))
        api.register_web_resource(FORGET_ROOMS_PATH, ForgetRooms(api))
        limits = VisitorLimits(api, config["visitor_localpart_prefix"], config["visitor_display_names"])
        limits.register()
        VisitorGuards(api, limits.is_visitor, config["visitor_device_names"]).install()

    @staticmethod
    def parse_config(config: dict[str, Any] | None) -> dict[str, Any]:
        config = dict(config or {})
        prefix = config.get("visitor_localpart_prefix")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigError("keerpunt_synapse: visitor_localpart_prefix must be a non-empty string")
        for key in ("visitor_display_names", "visitor_device_names"):
            names = config.get(key)
            if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
                raise ConfigError(f"keerpunt_synapse: {key} must be a list of non-empty strings")
        return config


def refusal(what: str) -> Refusal:
    return Codes.FORBIDDEN, {REFUSED: what}


class VisitorLimits:
    """What an account in the visitor namespace may do: join where the bot invited it, chat, leave."""

    def __init__(self, api: ModuleApi, prefix: str, display_names: list[str]) -> None:
        self.api = api
        self.prefix = "@" + prefix
        self.display_names = frozenset(name.strip() for name in display_names)

    def is_visitor(self, user_id: str) -> bool:
        return user_id.startswith(self.prefix) and self.api.is_mine(user_id)

    def register(self) -> None:
        self.api.register_spam_checker_callbacks(
            user_may_create_room=self.user_may_create_room,
            user_may_create_room_alias=self.user_may_create_room_alias,
            user_may_publish_room=self.user_may_publish_room,
            user_may_invite=self.user_may_invite,
            federated_user_may_invite=self.federated_user_may_invite,
            user_may_send_3pid_invite=self.user_may_send_3pid_invite,
            user_may_join_room=self.user_may_join_room,
            user_may_send_state_event=self.user_may_send_state_event,
            check_event_for_spam=self.check_event_for_spam,
        )
        self.api.register_third_party_rules_callbacks(check_event_allowed=self.check_event_allowed)
        self.api.register_media_repository_callbacks(
            get_media_config_for_user=self.get_media_config_for_user,
            is_user_allowed_to_upload_media_of_size=self.is_user_allowed_to_upload_media_of_size,
        )
        self._guard_profile_writes()

    # --- rooms and invites ----------------------------------------------------------------

    def _refuse_visitor(self, user_id: str, what: str) -> Refusal | str:
        if self.is_visitor(user_id):
            logger.info("Refused a visitor account: %s", what)
            return refusal(what)
        return NOT_SPAM

    async def user_may_create_room(self, user_id: str, room_config: Mapping[str, Any]) -> Refusal | str:
        return self._refuse_visitor(user_id, "create_room")

    async def user_may_create_room_alias(self, user_id: str, room_alias: Any) -> Refusal | str:
        return self._refuse_visitor(user_id, "room_alias")

    async def user_may_publish_room(self, user_id: str, room_id: str) -> Refusal | str:
        return self._refuse_visitor(user_id, "publish_room")

    async def user_may_send_3pid_invite(self, inviter: str, medium: str, address: str, room_id: str) -> Refusal | str:
        return self._refuse_visitor(inviter, "invite")

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Refusal | str:
        # Synapse does not ask for invites by a server admin: whoever gets here is not one.
        if self.is_visitor(inviter) or self.is_visitor(invitee):
            logger.info("Refused an invite by or of a visitor account")
            return refusal("invite")
        return NOT_SPAM

    async def federated_user_may_invite(self, event: EventBase) -> Refusal | str:
        return self._refuse_visitor(event.state_key or "", "invite")

    async def _admin(self, user_id: str | None) -> bool:
        """Is ``user_id`` a server admin of this homeserver (the system bot, an operator)?"""
        if not user_id or not self.api.is_mine(user_id):
            return False
        return await self.api.is_user_admin(user_id)

    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool) -> Refusal | str:
        if not self.is_visitor(user_id):
            return NOT_SPAM
        state = await self.api.get_room_state(room_id, [CREATE, (MEMBER, user_id)])
        create = state.get(CREATE)
        member = state.get((MEMBER, user_id))
        membership = member.content.get("membership") if member is not None else None
        invited_by_admin = membership == "invite" and await self._admin(member.sender if member else None)
        if create is not None and await self._admin(create.sender) and (membership == "join" or invited_by_admin):
            return NOT_SPAM
        logger.info("Refused a visitor account: join")
        return refusal("join")

    # --- events ---------------------------------------------------------------------------

    async def user_may_send_state_event(
        self, user_id: str, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
    ) -> Codes | str:
        # This callback takes no extra error fields: Synapse answers "You are not permitted
        # to send the state event". Joining and leaving do not come through here.
        if self.is_visitor(user_id):
            logger.info("Refused a visitor account: state event")
            return Codes.FORBIDDEN
        return NOT_SPAM

    async def check_event_for_spam(self, event: EventBase) -> Refusal | str:
        """Every non-membership event a local client sends (and every federated one)."""
        if not self.is_visitor(event.sender):
            return NOT_SPAM
        if event.is_state() or event.type not in VISITOR_EVENT_TYPES:
            logger.info("Refused a visitor account: event of a kind visitors may not send")
            return refusal("event")
        state = await self.api.get_room_state(event.room_id, [CREATE])
        create = state.get(CREATE)
        if create is None or not await self._admin(create.sender):
            logger.info("Refused a visitor account: event in a room the bot did not make")
            return refusal("event")
        return NOT_SPAM

    async def check_event_allowed(
        self, event: EventBase, state_events: Mapping[tuple[str, str], EventBase]
    ) -> tuple[bool, dict[str, Any] | None]:
        """A visitor's membership events (the spam checker never sees those): own join and leave only."""
        if event.type != MEMBER or not self.is_visitor(event.sender):
            return True, None
        allowed = await self._membership_allowed(event, state_events)
        if not allowed:
            logger.info("Refused a visitor account: membership change")
        return allowed, None

    async def _membership_allowed(self, event: EventBase, state: Mapping[tuple[str, str], EventBase]) -> bool:
        content = event.content
        if event.state_key != event.sender or "reason" in content:
            return False
        membership = content.get("membership")
        if membership == "leave":
            return True  # a visitor may always leave (and reject an invite)
        if membership != "join" or content.get("avatar_url"):
            return False
        create = state.get(CREATE)
        before = state.get((MEMBER, event.sender))
        if create is None or before is None or not await self._admin(create.sender):
            return False
        previous = before.content.get("membership")
        if previous != "join" and not (previous == "invite" and await self._admin(before.sender)):
            return False
        if "displayname" in content:
            profile = await self.api.get_profile_for_user(event.sender[1:].split(":", 1)[0])
            return bool(content["displayname"] == profile.display_name)
        return True

    # --- media ----------------------------------------------------------------------------

    async def get_media_config_for_user(self, user_id: str) -> dict[str, Any] | None:
        return {"m.upload.size": 0} if self.is_visitor(user_id) else None

    async def is_user_allowed_to_upload_media_of_size(self, user_id: str, size: int) -> bool:
        if self.is_visitor(user_id):
            logger.info("Refused a visitor account: media upload")
            return False
        return True

    # --- the profile ----------------------------------------------------------------------

    def _guard_profile_writes(self) -> None:
        handler = self.api._hs.get_profile_handler()
        for name in ("dispatch_set_profile_field", "dispatch_delete_profile_field"):
            original = getattr(handler, name, None)
            if not callable(original):
                raise ConfigError(f"keerpunt_synapse: this Synapse has no ProfileHandler.{name}; refusing to start")
            setattr(handler, name, self._guarded(original, deleting=name.startswith("dispatch_delete")))

    def _guarded(self, original: Callable[..., Awaitable[Any]], *, deleting: bool) -> Callable[..., Awaitable[Any]]:
        async def guarded(**kwargs: Any) -> Any:
            target = kwargs["target_user"].to_string()
            if self.is_visitor(target) and not kwargs.get("by_admin", False):
                value = None if deleting else kwargs.get("new_value")
                neutral = isinstance(value, str) and value.strip() in self.display_names
                if not (kwargs["field_name"] == "displayname" and neutral):
                    logger.info("Refused a visitor account: profile change")
                    raise SynapseError(
                        403, "Visitor accounts cannot change their profile", Codes.FORBIDDEN, {REFUSED: "profile"}
                    )
            return await original(**kwargs)

        return guarded
