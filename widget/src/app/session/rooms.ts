/**
 * The rooms the widget shows: the case room (joined at start) and handover rooms, joined only on
 * the bot's invite (invites.ts, docs/handover.md). Events of any other room are never looked at.
 * Also what membership changes mean to the visitor: a counsellor joined or left, the case ended,
 * a handover room was left.
 */
import { acceptInvite, type InviteEvent } from "../invites";
import type { RoomKind, SessionCallbacks } from "./types";
import { sleep } from "./wait";

export const JOIN_ATTEMPTS = 5;

interface RoomInfo {
  kind: RoomKind;
  /** `handover` was called for it. */
  announced: boolean;
  /** Intake staff from `handover.partner_joined`: user → organisation (the name when none is set). */
  organisations: Map<string, string>;
  /** Colleagues the bot said read along (`nl.keerpunt.supervisor`): the bot tells their coming and going. */
  supervisors: Set<string>;
}

/** A member's membership changed (`m.room.member`), with what it was before. */
export interface MembershipChange {
  room: string;
  user: string;
  membership: string | undefined;
  previous: string | undefined;
}

export interface RoomsDeps {
  me: string;
  bot: string;
  caseRoom: string;
  join(roomId: string): Promise<unknown>;
  callbacks: Pick<SessionCallbacks, "handover" | "ended" | "closed" | "memberJoined" | "memberLeft">;
  /** The session was stopped: nothing more is joined or reported. */
  stopped(): boolean;
  /** Waiting between join attempts (replaceable in tests). */
  sleep?: (ms: number) => Promise<void>;
}

export class Rooms {
  private readonly rooms = new Map<string, RoomInfo>();

  constructor(private readonly deps: RoomsDeps) {
    this.rooms.set(deps.caseRoom, { kind: "case", announced: true, organisations: new Map(), supervisors: new Set() });
  }

  has(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  kind(roomId: string): RoomKind | null {
    return this.rooms.get(roomId)?.kind ?? null;
  }

  /** Our own membership changed (js-sdk's MyMembership): join the bot's invites, ignore the rest. */
  myMembership(roomId: string, membership: string, invite: InviteEvent | null): void {
    if (this.deps.stopped()) return;
    const { me, bot, caseRoom } = this.deps;
    if (membership === "invite") {
      if (invite && acceptInvite({ me, bot, caseRoom }, invite)) void this.joinHandover(roomId);
    } else if (membership === "join" && this.kind(roomId) === "handover") {
      this.announce(roomId);
    }
  }

  /** Tell the app once about a handover room, before any of its messages. */
  announce(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room || room.announced || this.deps.stopped()) return;
    room.announced = true;
    this.deps.callbacks.handover(roomId);
  }

  membership(change: MembershipChange): void {
    const room = this.rooms.get(change.room);
    if (!room || this.deps.stopped()) return;
    const { callbacks } = this.deps;
    const gone = change.membership === "leave" || change.membership === "ban";
    if (change.user === this.deps.me) {
      if (!gone) return;
      if (room.kind === "case") callbacks.ended();
      else if (change.previous === "join") callbacks.closed(change.room);
      return;
    }
    // In a handover room the bot says who joined and from which organisation; in the case room,
    // that a colleague reads along (no "a counsellor joined" for them).
    if (change.user === this.deps.bot || room.kind !== "case" || room.supervisors.has(change.user)) return;
    if (change.membership === "join" && change.previous !== "join") callbacks.memberJoined(change.room);
    else if (change.membership !== "join" && change.previous === "join") callbacks.memberLeft(change.room);
  }

  /** A colleague who reads along, from the bot's notice (before they are even invited). */
  learnSupervisor(roomId: string, user: string): void {
    this.rooms.get(roomId)?.supervisors.add(user);
  }

  /** An intake member's organisation, from the bot's `handover.partner_joined`. */
  learnOrganisation(roomId: string, user: string, organisation: string): void {
    this.rooms.get(roomId)?.organisations.set(user, organisation);
  }

  organisation(roomId: string, user: string): string | null {
    return this.rooms.get(roomId)?.organisations.get(user) ?? null;
  }

  clear(): void {
    this.rooms.clear();
  }

  private async joinHandover(roomId: string): Promise<void> {
    if (this.rooms.has(roomId)) return;
    this.rooms.set(roomId, { kind: "handover", announced: false, organisations: new Map(), supervisors: new Set() });
    const wait = this.deps.sleep ?? sleep;
    for (let attempt = 1; !this.deps.stopped(); attempt += 1) {
      try {
        await this.deps.join(roomId);
        this.announce(roomId);
        return;
      } catch (error) {
        if (attempt >= JOIN_ATTEMPTS) {
          console.warn("keerpunt: could not join the handover room:", error instanceof Error ? error.message : error);
          this.rooms.delete(roomId);
          return;
        }
        await wait(500 * 2 ** attempt);
      }
    }
  }
}
