/**
 * Which invites the widget accepts (docs/handover.md): only one sent by the bot it was given at
 * session start. Anyone on the server can invite the visitor's account to a room of their own;
 * such an invite is ignored (not joined, not rejected, nothing shown), so nobody but the bot can
 * pull the visitor into a conversation. The handover room's create event carries
 * `nl.keerpunt.handover`, but only the inviter decides.
 */

/** The visitor's own `m.room.member` event in an invited room, as far as the rule needs it. */
export interface InviteEvent {
  roomId: string;
  /** Whose membership this is (`state_key`). */
  target: string | undefined;
  /** The inviter (`sender`). */
  sender: string | undefined;
  membership: unknown;
}

export interface InviteRule {
  /** The visitor's own Matrix ID. */
  me: string;
  /** The bot from the session info (`info.bot`). */
  bot: string;
  /** The case room: joined at start, never through this rule. */
  caseRoom: string;
}

export function acceptInvite(rule: InviteRule, invite: InviteEvent): boolean {
  return (
    invite.membership === "invite" &&
    invite.target === rule.me &&
    !!invite.sender &&
    invite.sender === rule.bot &&
    invite.roomId !== rule.caseRoom
  );
}
