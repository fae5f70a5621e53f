import { describe, expect, it, vi, type Mock } from "vitest";
import { ClientEvent, HttpApiEvent, MatrixEventEvent, RoomEvent, RoomMemberEvent, RoomStateEvent, SyncState } from "matrix-js-sdk";
import { CryptoEvent, DecryptionFailureCode } from "matrix-js-sdk/lib/crypto-api/index.js";
import { ChatSession } from "../../src/app/session";
import { listen, typingNames } from "../../src/app/session/listen";
import { Rooms } from "../../src/app/session/rooms";
import { Timeline, type TimelineEvent } from "../../src/app/session/timeline";
import type { SessionCallbacks } from "../../src/app/session/types";

const ME = "@visitor-x:k";
const BOT = "@keerpunt:k";
const CASE = "!case:k";
const names = { bot: "Keerpunt", staff: "Hulpverlener" };

/** A stand-in for the Matrix client: events in, what the session asks of it recorded. */
class FakeClient {
  private readonly handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  members: { userId: string; typing: boolean; rawDisplayName?: string }[] = [];
  stopped = false;
  retried = 0;
  retryImmediately(): boolean {
    this.retried += 1;
    return true;
  }
  on(name: string, handler: (...args: unknown[]) => void): void {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
  }
  emit(name: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(name) ?? []) handler(...args);
  }
  getRoom(roomId: string): unknown {
    return {
      roomId,
      getJoinedMembers: () => this.members,
      getMember: (user: string) => this.members.find((m) => m.userId === user) ?? null,
    };
  }
  stopClient(): void {
    this.stopped = true;
  }
  removeAllListeners(): void {
    this.handlers.clear();
  }
}

type Recorded = { [K in keyof SessionCallbacks]: Mock<SessionCallbacks[K]> };

function callbacks(): Recorded {
  const names = ["message", "remove", "memberJoined", "memberLeft", "typing", "connection", "queue", "untrusted", "closed", "ended", "handover", "partner", "reopenPrompt"];
  return Object.fromEntries(names.map((n) => [n, vi.fn()])) as never;
}

/** A timeline event; `decrypt` (what attemptDecryption does) can be set per test. */
function message(over: Partial<Record<string, unknown>> = {}): TimelineEvent & { retries: unknown[] } {
  const retries: unknown[] = [];
  const e = {
    retries,
    getId: () => "$m1",
    getTxnId: () => undefined,
    getSender: () => "@anna:k",
    getRoomId: () => CASE,
    getType: () => "m.room.message",
    getWireType: () => "m.room.encrypted",
    getContent: () => ({ msgtype: "m.text", body: "hoi" }),
    isState: () => false,
    isBeingDecrypted: () => false,
    shouldAttemptDecryption: () => false,
    isDecryptionFailure: () => false,
    isRedacted: () => false,
    decryptionFailureReason: null as DecryptionFailureCode | null,
    event: {},
    attemptDecryption: async (_crypto: unknown, options: unknown) => void retries.push(options),
    ...over,
  };
  return e as never;
}

function wired() {
  const client = new FakeClient();
  const cb = callbacks();
  let stopped = false;
  const rooms = new Rooms({ me: ME, bot: BOT, caseRoom: CASE, join: async () => undefined, callbacks: cb, stopped: () => stopped });
  const markRead = vi.fn();
  const own = new Map<string, string>();
  const forgetOwn = vi.fn((eventId: string) => own.get(eventId) ?? null);
  const crypto = { backend: true };
  const timeline = new Timeline({
    me: ME,
    bot: BOT,
    names,
    rooms,
    callbacks: cb,
    displayNameOf: (_room, user) => client.members.find((m) => m.userId === user)?.rawDisplayName ?? null,
    markRead,
    forgetOwn,
    crypto: crypto as never,
  });
  const outbox = { updateReadState: vi.fn(), resendFailed: vi.fn(async () => undefined) };
  listen(client as never, { me: ME, bot: BOT, names, rooms, timeline, outbox, callbacks: cb, stopped: () => stopped });
  return { client, cb, rooms, timeline, outbox, markRead, own, crypto, stop: () => (stopped = true) };
}

/** A redaction of `target` (unencrypted, as redactions are), by a counsellor or the bot. */
function redaction(target: string, over: Partial<Record<string, unknown>> = {}): TimelineEvent {
  return message({
    getId: () => "$r1",
    getType: () => "m.room.redaction",
    getWireType: () => "m.room.redaction",
    getContent: () => ({}),
    event: { redacts: target },
    ...over,
  });
}

/** Every text ever handed to the screen. */
const bodies = (cb: Recorded) => cb.message.mock.calls.map(([, view]) => view.body);

const room = (roomId: string) => ({ roomId });

describe("the timeline of the rooms shown", () => {
  it("shows a new message from someone else with their name, and marks it read", () => {
    const { client, cb, markRead } = wired();
    client.members = [{ userId: "@anna:k", typing: false, rawDisplayName: "Anna" }];
    const event = message();
    client.emit(RoomEvent.Timeline, event, room(CASE), false);
    expect(cb.message).toHaveBeenCalledWith(CASE, expect.objectContaining({ key: "$m1", from: "staff", name: "Anna", body: "hoi" }));
    expect(markRead).toHaveBeenCalledWith(event);
  });

  it("looks at nothing from other rooms, our own messages, state events, older history or other types", () => {
    const { client, cb, markRead } = wired();
    client.emit(RoomEvent.Timeline, message({ getRoomId: () => "!foreign:k" }), room("!foreign:k"), false);
    client.emit(RoomEvent.Timeline, message({ getSender: () => ME }), room(CASE), false);
    client.emit(RoomEvent.Timeline, message({ isState: () => true }), room(CASE), false);
    client.emit(RoomEvent.Timeline, message(), room(CASE), true);
    client.emit(RoomEvent.Timeline, message({ getWireType: () => "m.reaction" }), room(CASE), false);
    client.emit(MatrixEventEvent.Decrypted, message({ getRoomId: () => "!foreign:k" }));
    expect(cb.message).not.toHaveBeenCalled();
    expect(markRead).not.toHaveBeenCalled();
  });

  it("updates a shown message in place once it is decrypted, and leaves unshown events alone", () => {
    const { client, cb } = wired();
    client.emit(RoomEvent.Timeline, message({ shouldAttemptDecryption: () => true }), room(CASE), false);
    expect(cb.message).toHaveBeenLastCalledWith(CASE, expect.objectContaining({ key: "$m1", state: "decrypting" }));
    client.emit(MatrixEventEvent.Decrypted, message());
    expect(cb.message).toHaveBeenLastCalledWith(CASE, expect.objectContaining({ key: "$m1", state: "ok", body: "hoi" }));
    client.emit(MatrixEventEvent.Decrypted, message({ getId: () => "$never-shown" }));
    expect(cb.message).toHaveBeenCalledTimes(2);
  });

  it("takes a shown event off the list when it turns out not to be a message", () => {
    const { client, cb } = wired();
    client.emit(RoomEvent.Timeline, message({ shouldAttemptDecryption: () => true }), room(CASE), false);
    client.emit(MatrixEventEvent.Decrypted, message({ getType: () => "m.reaction" }));
    expect(cb.remove).toHaveBeenCalledWith(CASE, "$m1");
    client.emit(MatrixEventEvent.Decrypted, message({ getType: () => "m.reaction" }));
    expect(cb.remove).toHaveBeenCalledTimes(1);
  });

  it("retries decryption with isRetry when device lists or trust change, until it works", () => {
    const { client, crypto } = wired();
    const waiting = message({ isDecryptionFailure: () => true, decryptionFailureReason: DecryptionFailureCode.UNKNOWN_SENDER_DEVICE });
    client.emit(RoomEvent.Timeline, waiting, room(CASE), false);
    client.emit(MatrixEventEvent.Decrypted, waiting);
    client.emit(CryptoEvent.DevicesUpdated, [BOT], false);
    client.emit(CryptoEvent.UserTrustStatusChanged, BOT, {});
    expect(waiting.retries).toEqual([{ isRetry: true }, { isRetry: true }]);
    const spy = vi.spyOn(waiting, "attemptDecryption");
    client.emit(CryptoEvent.DevicesUpdated, [BOT], false);
    expect(spy.mock.calls[0]?.[0]).toBe(crypto);
    (waiting as unknown as { decryptionFailureReason: null }).decryptionFailureReason = null;
    client.emit(MatrixEventEvent.Decrypted, waiting);
    client.emit(CryptoEvent.DevicesUpdated, [BOT], false);
    expect(waiting.retries).toHaveLength(3);
  });

  it("does not retry other decryption failures", () => {
    const { client } = wired();
    const lost = message({ isDecryptionFailure: () => true, decryptionFailureReason: DecryptionFailureCode.MEGOLM_UNKNOWN_INBOUND_SESSION_ID });
    client.emit(MatrixEventEvent.Decrypted, lost);
    client.emit(CryptoEvent.DevicesUpdated, [BOT], false);
    expect(lost.retries).toEqual([]);
  });

  it("acts on the bot's queue news before showing its message", () => {
    const { client, cb } = wired();
    const order: string[] = [];
    cb.queue.mockImplementation(() => order.push("queue"));
    cb.message.mockImplementation(() => order.push("message"));
    const content = { msgtype: "m.notice", body: "Je bent nummer 2.", "nl.keerpunt.queue": { position: 2, wait_minutes: 10 } };
    client.emit(RoomEvent.Timeline, message({ getSender: () => BOT, getContent: () => content }), room(CASE), false);
    expect(cb.queue).toHaveBeenCalledWith({ position: 2, minutes: 10 });
    expect(order).toEqual(["queue", "message"]);
  });

  it("announces a handover room before its first message, and names its partner and intake staff", async () => {
    const { client, cb } = wired();
    const order: string[] = [];
    cb.handover.mockImplementation(() => order.push("handover"));
    cb.partner.mockImplementation(() => order.push("partner"));
    cb.message.mockImplementation(() => order.push("message"));
    const invite = { getStateKey: () => ME, getSender: () => BOT, getContent: () => ({ membership: "invite" }) };
    const invited = { roomId: "!h:k", currentState: { getStateEvents: () => invite } };
    client.emit(RoomEvent.MyMembership, invited, "invite");
    const intro = { msgtype: "m.notice", body: "Dit is Jeugdzorg.", "nl.keerpunt.message": "handover.intro", "nl.keerpunt.handover": { partner: "Jeugdzorg" } };
    client.emit(RoomEvent.Timeline, message({ getRoomId: () => "!h:k", getSender: () => BOT, getContent: () => intro }), room("!h:k"), false);
    await vi.waitFor(() => expect(cb.handover).toHaveBeenCalledTimes(1));
    expect(order).toEqual(["handover", "partner", "message"]);
    const joined = { "nl.keerpunt.message": "handover.partner_joined", "nl.keerpunt.partner": { user: "@i:k", organisation: "Jeugdzorg" }, body: "x", msgtype: "m.notice" };
    client.emit(RoomEvent.Timeline, message({ getId: () => "$j", getRoomId: () => "!h:k", getSender: () => BOT, getContent: () => joined }), room("!h:k"), false);
    client.emit(RoomEvent.Timeline, message({ getId: () => "$i", getRoomId: () => "!h:k", getSender: () => "@i:k" }), room("!h:k"), false);
    expect(cb.message).toHaveBeenLastCalledWith("!h:k", expect.objectContaining({ key: "$i", name: "Jeugdzorg" }));
  });
});

describe("redactions and staff commands", () => {
  it("takes a shown message off the screen when it is redacted, and never brings it back", () => {
    const { client, cb } = wired();
    client.emit(RoomEvent.Timeline, message(), room(CASE), false);
    expect(bodies(cb)).toEqual(["hoi"]);
    const gone = message({ isRedacted: () => true, getContent: () => ({}) });
    client.emit(RoomEvent.Timeline, redaction("$m1"), room(CASE), false);
    expect(cb.remove).toHaveBeenCalledWith(CASE, "$m1");
    client.emit(MatrixEventEvent.Decrypted, gone);
    client.emit(MatrixEventEvent.Decrypted, message());
    expect(cb.message).toHaveBeenCalledTimes(1);
  });

  it("takes an event off the screen that js-sdk redacted itself, in the rooms shown only", () => {
    const { client, cb } = wired();
    client.emit(RoomEvent.Timeline, message({ shouldAttemptDecryption: () => true }), room(CASE), false);
    client.emit(RoomEvent.Redaction, redaction("$m1"), room(CASE));
    client.emit(RoomEvent.Redaction, redaction("$m9"), room("!foreign:k"));
    client.emit(RoomEvent.Redaction, message(), room(CASE)); // not a redaction: nothing to take away
    expect(cb.remove.mock.calls).toEqual([[CASE, "$m1"]]);
  });

  it("never shows an event that arrives redacted, nor decrypts it again", () => {
    const { client, cb } = wired();
    const redacted = message({
      isRedacted: () => true,
      isDecryptionFailure: () => true,
      decryptionFailureReason: DecryptionFailureCode.UNKNOWN_SENDER_DEVICE,
    });
    client.emit(RoomEvent.Timeline, redacted, room(CASE), false);
    client.emit(MatrixEventEvent.Decrypted, redacted);
    client.emit(CryptoEvent.DevicesUpdated, ["@anna:k"], false);
    expect(cb.message).not.toHaveBeenCalled();
    expect(redacted.retries).toEqual([]);
  });

  it("forgets a message waiting for its sender's keys once it is redacted", () => {
    const { client } = wired();
    const waiting = message({ isDecryptionFailure: () => true, decryptionFailureReason: DecryptionFailureCode.UNKNOWN_SENDER_DEVICE });
    client.emit(RoomEvent.Timeline, waiting, room(CASE), false);
    client.emit(MatrixEventEvent.Decrypted, waiting);
    client.emit(RoomEvent.Timeline, redaction("$m1"), room(CASE), false);
    client.emit(CryptoEvent.DevicesUpdated, ["@anna:k"], false);
    expect(waiting.retries).toEqual([]);
  });

  it("takes one of our own messages off the screen by its key when it is redacted", () => {
    const { client, cb, own } = wired();
    own.set("$mine", "kpTEST.1");
    client.emit(RoomEvent.Timeline, redaction("$mine"), room(CASE), false);
    expect(cb.remove.mock.calls).toEqual([[CASE, "$mine"], [CASE, "kpTEST.1"]]);
  });

  it("never hands a counsellor's staff command to the screen, before or after decryption", () => {
    const { client, cb } = wired();
    const note = { msgtype: "m.text", body: "!note 4821 geheim" };
    client.emit(RoomEvent.Timeline, message({ shouldAttemptDecryption: () => true }), room(CASE), false);
    client.emit(MatrixEventEvent.Decrypted, message({ getContent: () => note }));
    expect(cb.remove).toHaveBeenCalledWith(CASE, "$m1");
    client.emit(RoomEvent.Timeline, message({ getId: () => "$m2", getContent: () => note }), room(CASE), false);
    expect(cb.remove).toHaveBeenCalledWith(CASE, "$m2");
    expect(bodies(cb)).toEqual([null]); // only the "being opened" line, without text
    // The bot's redaction of it changes nothing on screen.
    client.emit(RoomEvent.Timeline, redaction("$m2", { getSender: () => BOT }), room(CASE), false);
    expect(bodies(cb)).toEqual([null]);
  });
});

describe("the client's other news", () => {
  it("reports who is typing (never us), as the bot's name or 'counsellor'", () => {
    expect(typingNames([{ userId: ME, typing: true }, { userId: BOT, typing: true }, { userId: "@a:k", typing: true }, { userId: "@b:k", typing: false }], { me: ME, bot: BOT, names })).toEqual(["Keerpunt", "Hulpverlener"]);
    const { client, cb } = wired();
    client.members = [{ userId: "@anna:k", typing: true }];
    client.emit(RoomMemberEvent.Typing, {}, { roomId: CASE });
    client.emit(RoomMemberEvent.Typing, {}, { roomId: "!foreign:k" });
    expect(cb.typing.mock.calls).toEqual([[CASE, ["Hulpverlener"]]]);
  });

  it("updates the read state on receipts in rooms shown", () => {
    const { client, outbox } = wired();
    client.emit(RoomEvent.Receipt, {}, room(CASE));
    client.emit(RoomEvent.Receipt, {}, room("!foreign:k"));
    expect(outbox.updateReadState.mock.calls).toEqual([[CASE]]);
  });

  it("reports a counsellor joining the case room from the member event", () => {
    const { client, cb } = wired();
    const event = { getPrevContent: () => ({ membership: "invite" }) };
    client.emit(RoomStateEvent.Members, event, {}, { roomId: CASE, userId: "@anna:k", membership: "join" });
    expect(cb.memberJoined).toHaveBeenCalledWith(CASE);
  });

  it("says the connection is lost once and back once, then sends and decrypts again what failed", () => {
    const { client, cb, outbox } = wired();
    const waiting = message({ isDecryptionFailure: () => true, decryptionFailureReason: DecryptionFailureCode.UNKNOWN_SENDER_DEVICE });
    client.emit(MatrixEventEvent.Decrypted, waiting);
    client.emit(ClientEvent.Sync, SyncState.Syncing);
    expect(cb.connection).not.toHaveBeenCalled();
    client.emit(ClientEvent.Sync, SyncState.Reconnecting);
    client.emit(ClientEvent.Sync, SyncState.Error);
    expect(cb.connection.mock.calls).toEqual([[false]]);
    client.emit(ClientEvent.Sync, SyncState.Syncing);
    client.emit(ClientEvent.Sync, SyncState.Syncing);
    expect(cb.connection.mock.calls).toEqual([[false], [true]]);
    expect(outbox.resendFailed).toHaveBeenCalledTimes(1);
    expect(waiting.retries).toEqual([{ isRetry: true }]);
  });

  it("says the connection is lost as soon as the browser goes offline, and retries the sync when it is back", () => {
    const client = new FakeClient();
    const cb = callbacks();
    const target = new EventTarget();
    const listening = new AbortController();
    const rooms = new Rooms({ me: ME, bot: BOT, caseRoom: CASE, join: async () => undefined, callbacks: cb, stopped: () => false });
    const timeline = { waitingForKeys: false, retryDecryptions: vi.fn() };
    const outbox = { updateReadState: vi.fn(), resendFailed: vi.fn(async () => undefined) };
    const network = { target, signal: listening.signal };
    listen(client as never, { me: ME, bot: BOT, names, rooms, timeline: timeline as never, outbox, callbacks: cb, stopped: () => false, network });
    target.dispatchEvent(new Event("offline"));
    client.emit(ClientEvent.Sync, SyncState.Error); // the sync loop noticing later says nothing more
    expect(cb.connection.mock.calls).toEqual([[false]]);
    target.dispatchEvent(new Event("online"));
    expect(client.retried).toBe(1);
    client.emit(ClientEvent.Sync, SyncState.Syncing);
    expect(cb.connection.mock.calls).toEqual([[false], [true]]);
    expect(outbox.resendFailed).toHaveBeenCalledTimes(1);
    // Stopped: the window's listeners are gone.
    listening.abort();
    target.dispatchEvent(new Event("offline"));
    target.dispatchEvent(new Event("online"));
    expect(cb.connection.mock.calls).toEqual([[false], [true]]);
    expect(client.retried).toBe(1);
  });

  it("ends the chat when the token stops working, unless the session was stopped", () => {
    const first = wired();
    first.client.emit(HttpApiEvent.SessionLoggedOut, {});
    expect(first.cb.ended).toHaveBeenCalledTimes(1);
    const second = wired();
    second.stop();
    second.client.emit(HttpApiEvent.SessionLoggedOut, {});
    second.client.emit(ClientEvent.Sync, SyncState.Error);
    expect(second.cb.ended).not.toHaveBeenCalled();
    expect(second.cb.connection).not.toHaveBeenCalled();
  });
});

describe("ChatSession.stop", () => {
  it("stops syncing, drops every listener and reports nothing more", () => {
    const client = new FakeClient();
    const cb = callbacks();
    const info = { homeserver: "https://k", user_id: ME, access_token: "t", device_id: "D", room_id: CASE, bot: BOT, case: "1" };
    const session = new ChatSession(client as never, {} as never, info, cb, names);
    session.stop();
    expect(client.stopped).toBe(true);
    client.emit(RoomEvent.Timeline, message(), room(CASE), false);
    client.emit(HttpApiEvent.SessionLoggedOut, {});
    expect(cb.message).not.toHaveBeenCalled();
    expect(cb.ended).not.toHaveBeenCalled();
  });
});
