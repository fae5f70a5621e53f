/**
 * The Matrix client's events, each routed to the part that handles it: room events to the
 * timeline, membership to the rooms, receipts to the outbox, and the sync state to a
 * "connection lost / back" signal (on which failed decryptions and sends are retried).
 *
 * The browser's own `offline` event says at once that the device lost its network (airplane
 * mode, out of reach); the sync loop would only notice when its long poll fails, up to half a
 * minute later, while the visitor types into a chat that cannot send. On `online` the sync loop
 * is asked to retry now instead of after its back-off.
 */
import {
  ClientEvent,
  EventType,
  HttpApiEvent,
  MatrixEventEvent,
  RoomEvent,
  RoomMemberEvent,
  RoomStateEvent,
  SyncState,
  type MatrixClient,
  type Room,
} from "matrix-js-sdk";
import { CryptoEvent } from "matrix-js-sdk/lib/crypto-api/index.js";
import type { InviteEvent } from "../invites";
import { redactedId } from "./events";
import type { Outbox } from "./outbox";
import type { Rooms } from "./rooms";
import type { Timeline } from "./timeline";
import type { Names, SessionCallbacks } from "./types";

export interface ListenDeps {
  me: string;
  bot: string;
  names: Names;
  rooms: Rooms;
  timeline: Timeline;
  outbox: Pick<Outbox, "updateReadState" | "resendFailed">;
  callbacks: Pick<SessionCallbacks, "typing" | "connection" | "ended">;
  stopped(): boolean;
  /** Where `online` and `offline` fire (the window), and the signal that removes the listeners. */
  network?: { target: EventTarget; signal: AbortSignal };
}

/** Who is typing in a room, as the visitor sees them: the bot's name or "Counsellor". */
export function typingNames(
  members: { userId: string; typing: boolean }[],
  who: { me: string; bot: string; names: Names },
): string[] {
  return members
    .filter((m) => m.typing && m.userId !== who.me)
    .map((m) => (m.userId === who.bot ? who.names.bot : who.names.staff));
}

/** Our own membership event in a room we are invited to, as far as the invite rule needs it. */
export function inviteOf(room: Pick<Room, "roomId" | "currentState">, me: string): InviteEvent {
  const own = room.currentState.getStateEvents(EventType.RoomMember, me);
  return {
    roomId: room.roomId,
    target: own?.getStateKey(),
    sender: own?.getSender(),
    membership: own?.getContent().membership,
  };
}

export function listen(client: Pick<MatrixClient, "on" | "getRoom" | "retryImmediately">, deps: ListenDeps): void {
  const { rooms, timeline, outbox, callbacks, me } = deps;
  client.on(RoomEvent.Timeline, (event, room, toStart) => {
    if (toStart || !room) return;
    timeline.arrived(room.roomId, event);
  });
  client.on(MatrixEventEvent.Decrypted, (event) => timeline.decrypted(event));
  // Redactions also arrive on the timeline; this covers the ones js-sdk applies without one there.
  client.on(RoomEvent.Redaction, (redaction, room) => {
    const target = redactedId(redaction);
    if (target !== null) timeline.redacted(room.roomId, target);
  });
  // js-sdk never retries UNKNOWN_SENDER_DEVICE by itself (FIELD-NOTES): retry when device
  // lists or trust change, which is when the sender's keys arrive.
  client.on(CryptoEvent.DevicesUpdated, () => timeline.retryDecryptions());
  client.on(CryptoEvent.UserTrustStatusChanged, () => timeline.retryDecryptions());
  client.on(RoomMemberEvent.Typing, (_event, member) => {
    if (!rooms.has(member.roomId)) return;
    const members = client.getRoom(member.roomId)?.getJoinedMembers() ?? [];
    callbacks.typing(member.roomId, typingNames(members, deps));
  });
  client.on(RoomEvent.Receipt, (_event, room) => {
    if (rooms.has(room.roomId)) outbox.updateReadState(room.roomId);
  });
  client.on(RoomStateEvent.Members, (event, _state, member) =>
    rooms.membership({
      room: member.roomId,
      user: member.userId,
      membership: member.membership,
      previous: event.getPrevContent().membership,
    }),
  );
  client.on(RoomEvent.MyMembership, (room, membership) =>
    rooms.myMembership(room.roomId, membership, membership === "invite" ? inviteOf(room, me) : null),
  );
  // The token stopped working: the case was closed and the account erased.
  client.on(HttpApiEvent.SessionLoggedOut, () => {
    if (!deps.stopped()) callbacks.ended();
  });
  let connected = true;
  client.on(ClientEvent.Sync, (state) => {
    if (deps.stopped()) return;
    if (state === SyncState.Error || state === SyncState.Reconnecting) {
      if (connected) {
        connected = false;
        callbacks.connection(false);
      }
    } else if ((state === SyncState.Syncing || state === SyncState.Prepared) && !connected) {
      connected = true;
      callbacks.connection(true);
      if (timeline.waitingForKeys) timeline.retryDecryptions();
      void outbox.resendFailed();
    }
  });
  if (deps.network) {
    const { target, signal } = deps.network;
    target.addEventListener(
      "offline",
      () => {
        if (deps.stopped() || !connected) return;
        connected = false;
        callbacks.connection(false);
      },
      { signal },
    );
    target.addEventListener("online", () => void (deps.stopped() || client.retryImmediately()), { signal });
  }
}
