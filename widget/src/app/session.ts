/**
 * The encrypted conversation: matrix-js-sdk with Rust crypto, loaded only when the visitor
 * starts (this module is imported lazily by main.ts). Everything is in memory: MemoryStore,
 * MemoryCryptoStore and `initRustCrypto({useIndexedDB: false})`; a reload is a new session.
 *
 * The order matters (DESIGN.md "End-to-end encryption rules", FIELD-NOTES.md):
 * crypto → strict device isolation → cross-signing → sync → join → wait for the room and its
 * members → check that a recipient device is signed by its owner → send `nl.keerpunt.start`.
 *
 * Besides the case room the visitor may get a handover room (docs/handover.md): joined only when
 * the bot invites (invites.ts), shown beside the case room, with the same rendering, retries
 * and refusal to send without a signed recipient. Events of any other room are never looked at.
 */
import {
  ClientEvent,
  createClient,
  EventType,
  Filter,
  HttpApiEvent,
  MatrixEventEvent,
  MemoryCryptoStore,
  MemoryStore,
  RoomEvent,
  RoomMemberEvent,
  RoomStateEvent,
  SyncState,
  type MatrixClient,
  type MatrixEvent,
  type Room,
  type RoomMember,
  type TimelineEvents,
} from "matrix-js-sdk";
import {
  CryptoEvent,
  DecryptionFailureCode,
  OnlySignedDevicesIsolationMode,
  type CryptoApi,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { initAsync } from "@matrix-org/matrix-sdk-crypto-wasm";
import type { SessionInfo } from "./api";
import {
  messageKind,
  parseHandoverPartner,
  parsePartnerMember,
  parsePrompt,
  parseQueue,
  type Prompt,
  type QueueInfo,
} from "./content";
import { acceptInvite } from "./invites";
import { displayName } from "./render";

export const START_EVENT = "nl.keerpunt.start";
export const REPLY_KEY = "nl.keerpunt.reply";

export type Sender = "me" | "bot" | "staff";
export type RoomKind = "case" | "handover";
export type SendState = "sending" | "sent" | "read" | "failed";

export interface MessageView {
  key: string;
  from: Sender;
  name: string | null;
  body: string | null;
  state: "ok" | "decrypting" | "undecryptable";
  prompt: Prompt | null;
  status: SendState | null;
  notice: boolean;
}

/** Everything about a conversation names its room: the case room or a handover room. */
export interface SessionCallbacks {
  message(room: string, view: MessageView): void;
  remove(room: string, key: string): void;
  /** A counsellor joined or left the case room (handover rooms: the bot says who joined). */
  memberJoined(room: string): void;
  memberLeft(room: string): void;
  typing(room: string, names: string[]): void;
  connection(ok: boolean): void;
  queue(info: QueueInfo): void;
  untrusted(room: string): void;
  /** No more messages go out in this room: the case was closed, or we left the handover room. */
  closed(room: string): void;
  ended(): void;
  /** We joined a handover room on the bot's invite; called once, before any of its messages. */
  handover(room: string): void;
  /** The partner's name, from the bot's `handover.intro` in that handover room. */
  partner(room: string, name: string): void;
  /** The visitor answered "later": the prompt `prompt` in `room` can be answered again. */
  reopenPrompt(room: string, prompt: string): void;
}

export class UntrustedError extends Error {
  constructor() {
    super("no recipient device is signed by its owner");
  }
}

const WAIT_LIMIT_MS = 30000;

async function until(check: () => boolean, what: string, limitMs = WAIT_LIMIT_MS): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Backend = Parameters<MatrixEvent["attemptDecryption"]>[0];

interface Outgoing {
  key: string;
  room: string;
  txnId: string;
  content: Record<string, unknown>;
  eventId: string | null;
  status: SendState;
  body: string;
}

/**
 * Fetch and compile the crypto wasm now (while the session API creates the account and room);
 * `initRustCrypto` later finds it ready. Safe to call more than once.
 */
export function warmUp(): void {
  initAsync().catch(() => undefined);
}

interface RoomInfo {
  kind: RoomKind;
  /** `handover` was called for it. */
  announced: boolean;
  /** Intake staff from `handover.partner_joined`: user → organisation (the name when none is set). */
  organisations: Map<string, string>;
}

/**
 * Every sync asks for up to this many timeline events per room. js-sdk's default (10 after the
 * first sync) is less than a handover room holds before the visitor joins (state events,
 * invites, the introduction and the summary), and a gap would hide the summary.
 */
const TIMELINE_LIMIT = 100;
const JOIN_ATTEMPTS = 5;

export class ChatSession {
  private readonly retryDecrypt = new Set<MatrixEvent>();
  /** The rooms we show: the case room and handover rooms we joined on the bot's invite. */
  private readonly rooms = new Map<string, RoomInfo>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly shown = new Set<string>();
  private connected = true;
  private stopped = false;
  private txnCounter = 0;
  /** Sends go out one after another, in the order the visitor wrote them. */
  private sending: Promise<void> = Promise.resolve();
  private readonly txnPrefix = `kp${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

  private constructor(
    private readonly client: MatrixClient,
    private readonly crypto: CryptoApi,
    readonly info: SessionInfo,
    private readonly callbacks: SessionCallbacks,
    private readonly names: { bot: string; staff: string },
  ) {}

  /** Set up crypto, sync, join and speak first. Throws UntrustedError when nobody can read us. */
  static async open(
    info: SessionInfo,
    language: string,
    callbacks: SessionCallbacks,
    names: { bot: string; staff: string },
  ): Promise<ChatSession> {
    // loglevel underneath: keep the console quiet. `false`: loglevel would otherwise persist the
    // level in localStorage ("loglevel:matrix"), a trace left after the chat (SECURITY.md A.4).
    (logger as unknown as { setLevel?: (level: string, persist?: boolean) => void }).setLevel?.("warn", false);
    const client = createClient({
      baseUrl: info.homeserver,
      userId: info.user_id,
      deviceId: info.device_id,
      accessToken: info.access_token,
      store: new MemoryStore(),
      cryptoStore: new MemoryCryptoStore(),
      timelineSupport: false,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const crypto = client.getCrypto();
    if (!crypto) throw new Error("crypto did not start");
    crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
    const session = new ChatSession(client, crypto, info, callbacks, names);
    session.rooms.set(info.room_id, { kind: "case", announced: true, organisations: new Map() });
    session.listen();
    try {
      await session.begin(language);
    } catch (error) {
      session.stop(); // never leave a half-started client syncing in the background
      throw error;
    }
    return session;
  }

  private async begin(language: string): Promise<void> {
    const { client, crypto, info } = this;
    const filter = new Filter(info.user_id);
    filter.setDefinition({ room: { timeline: { limit: TIMELINE_LIMIT } } });
    const prepared = new Promise<void>((resolve) => {
      const onSync = (state: SyncState): void => {
        if (state === SyncState.Prepared || state === SyncState.Syncing) {
          client.off(ClientEvent.Sync, onSync);
          resolve();
        }
      };
      client.on(ClientEvent.Sync, onSync);
    });
    // Three independent round trips at once: cross-signing (the first upload of a fresh
    // account's keys needs no interactive auth), the first sync, and joining the case room
    // (we were invited in createRoom). Nothing is sent before all three are done.
    await Promise.all([
      crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: async (makeRequest) => {
          await makeRequest(null);
        },
      }),
      client.startClient({ initialSyncLimit: 30, lazyLoadMembers: false, filter }).then(() => prepared),
      client.joinRoom(info.room_id),
    ]);
    await this.requireOwnSignature();
    // The room key goes only to members in local state: wait for us and the bot to be there.
    await until(() => {
      const r = client.getRoom(info.room_id);
      return !!r && r.getMyMembership() === "join" && r.getMember(info.bot)?.membership === "join";
    }, "the room and its members");
    await this.requireSignedRecipient(info.room_id);
    await this.sendRaw(info.room_id, START_EVENT, { language });
    performance.mark("kp-start-sent");
  }

  private roomOf(roomId: string): Room | null {
    return this.client.getRoom(roomId);
  }

  private listen(): void {
    const c = this.client;
    c.on(RoomEvent.Timeline, (event, room, toStart) => {
      if (toStart || !room || !this.rooms.has(room.roomId)) return;
      this.onTimeline(room.roomId, event);
    });
    c.on(MatrixEventEvent.Decrypted, (event) => {
      if (!this.rooms.has(event.getRoomId() ?? "")) return;
      if (event.decryptionFailureReason === DecryptionFailureCode.UNKNOWN_SENDER_DEVICE) {
        this.retryDecrypt.add(event);
      } else {
        this.retryDecrypt.delete(event);
      }
      if (this.shown.has(this.keyOf(event))) this.render(event);
    });
    // js-sdk never retries UNKNOWN_SENDER_DEVICE by itself (FIELD-NOTES): retry when device
    // lists or trust change, which is when the sender's keys arrive.
    const retry = (): void => this.retryFailedDecryptions();
    c.on(CryptoEvent.DevicesUpdated, retry);
    c.on(CryptoEvent.UserTrustStatusChanged, retry);
    c.on(RoomMemberEvent.Typing, (_event, member) => {
      const roomId = member.roomId;
      if (!this.rooms.has(roomId)) return;
      const typing = (this.roomOf(roomId)?.getJoinedMembers() ?? []).filter(
        (m) => m.typing && m.userId !== this.info.user_id,
      );
      this.callbacks.typing(roomId, typing.map((m) => (m.userId === this.info.bot ? this.names.bot : this.names.staff)));
    });
    c.on(RoomEvent.Receipt, (_event, room) => {
      if (this.rooms.has(room.roomId)) this.updateReadState(room.roomId);
    });
    c.on(RoomStateEvent.Members, (event, _state, member) => this.onMembership(event, member));
    c.on(RoomEvent.MyMembership, (room, membership) => this.onMyMembership(room, membership));
    // The token stopped working: the case was closed and the account erased.
    c.on(HttpApiEvent.SessionLoggedOut, () => {
      if (!this.stopped) this.callbacks.ended();
    });
    c.on(ClientEvent.Sync, (state) => {
      if (this.stopped) return;
      if (state === SyncState.Error || state === SyncState.Reconnecting) {
        if (this.connected) {
          this.connected = false;
          this.callbacks.connection(false);
        }
      } else if ((state === SyncState.Syncing || state === SyncState.Prepared) && !this.connected) {
        this.connected = true;
        this.callbacks.connection(true);
        this.retryDecrypt.size && this.retryFailedDecryptions();
        void this.resendFailed();
      }
    });
  }

  private retryFailedDecryptions(): void {
    const backend = this.crypto as unknown as Backend;
    for (const event of [...this.retryDecrypt]) {
      void event.attemptDecryption(backend, { isRetry: true });
    }
  }

  private keyOf(event: MatrixEvent): string {
    return event.getId() ?? event.getTxnId() ?? "";
  }

  /** Invites: join the bot's (a handover room), ignore everyone else's. */
  private onMyMembership(room: Room, membership: string): void {
    if (this.stopped) return;
    const me = this.info.user_id;
    if (membership === "invite") {
      const own = room.currentState.getStateEvents(EventType.RoomMember, me);
      const invite = {
        roomId: room.roomId,
        target: own?.getStateKey(),
        sender: own?.getSender(),
        membership: own?.getContent().membership,
      };
      if (acceptInvite({ me, bot: this.info.bot, caseRoom: this.info.room_id }, invite)) {
        void this.joinHandover(room.roomId);
      }
    } else if (membership === "join" && this.rooms.get(room.roomId)?.kind === "handover") {
      this.announce(room.roomId);
    }
  }

  private async joinHandover(roomId: string): Promise<void> {
    if (this.rooms.has(roomId)) return;
    this.rooms.set(roomId, { kind: "handover", announced: false, organisations: new Map() });
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        await this.client.joinRoom(roomId);
        this.announce(roomId);
        return;
      } catch (error) {
        if (attempt >= JOIN_ATTEMPTS) {
          console.warn("keerpunt: could not join the handover room:", error instanceof Error ? error.message : error);
          this.rooms.delete(roomId);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
  }

  private announce(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room || room.announced || this.stopped) return;
    room.announced = true;
    this.callbacks.handover(roomId);
  }

  private onMembership(event: MatrixEvent, member: RoomMember): void {
    const room = this.rooms.get(member.roomId);
    if (!room || this.stopped) return;
    const previous = event.getPrevContent().membership;
    const gone = member.membership === "leave" || member.membership === "ban";
    if (member.userId === this.info.user_id) {
      if (!gone) return;
      if (room.kind === "case") this.callbacks.ended();
      else if (previous === "join") this.callbacks.closed(member.roomId);
      return;
    }
    // In a handover room the bot says who joined and from which organisation.
    if (member.userId === this.info.bot || room.kind !== "case") return;
    if (member.membership === "join" && previous !== "join") this.callbacks.memberJoined(member.roomId);
    else if (member.membership !== "join" && previous === "join") this.callbacks.memberLeft(member.roomId);
  }

  /** The bot's name, a member's own display name, or an intake member's organisation; else null. */
  private nameOf(roomId: string, sender: string): string | null {
    if (sender === this.info.bot) return this.names.bot;
    const raw = this.roomOf(roomId)?.getMember(sender)?.rawDisplayName ?? null;
    // No display name set: js-sdk falls back to the user ID; show "Counsellor" instead.
    const bare = raw === null || raw === sender || raw === sender.slice(1).split(":")[0];
    const own = bare ? null : displayName(raw, "") || null;
    return own ?? this.rooms.get(roomId)?.organisations.get(sender) ?? null;
  }

  private onTimeline(roomId: string, event: MatrixEvent): void {
    if (event.getSender() === this.info.user_id || event.isState()) return;
    const type = event.getWireType();
    if (type !== EventType.RoomMessageEncrypted && type !== EventType.RoomMessage && type !== "nl.keerpunt.prompt") {
      return;
    }
    this.shown.add(this.keyOf(event));
    this.render(event);
    if (document.visibilityState === "visible") void this.client.sendReadReceipt(event).catch(() => undefined);
  }

  private render(event: MatrixEvent): void {
    const roomId = event.getRoomId() ?? "";
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.announce(roomId); // the "new conversation" line comes before the room's first message
    const key = this.keyOf(event);
    const sender = event.getSender() ?? "";
    const from: Sender = sender === this.info.bot ? "bot" : "staff";
    const name = this.nameOf(roomId, sender);
    const base = { key, from, name, prompt: null, status: null, notice: false } as const;
    if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) {
      this.callbacks.message(roomId, { ...base, body: null, state: "decrypting" });
      return;
    }
    if (event.isDecryptionFailure()) {
      const waiting = event.decryptionFailureReason === DecryptionFailureCode.UNKNOWN_SENDER_DEVICE;
      this.callbacks.message(roomId, { ...base, body: null, state: waiting ? "decrypting" : "undecryptable" });
      return;
    }
    const type = event.getType();
    const content = event.getContent() as Record<string, unknown>;
    // Buttons and queue news are the bot's alone: from anyone else they are just text.
    const fromBot = from === "bot";
    const prompt = fromBot
      ? parsePrompt(type === "nl.keerpunt.prompt" ? content : content["nl.keerpunt.prompt"])
      : null;
    if (fromBot) this.onBotContent(roomId, room, content);
    if (type !== EventType.RoomMessage && type !== "nl.keerpunt.prompt") {
      this.shown.delete(key);
      this.callbacks.remove(roomId, key);
      return;
    }
    const body = typeof content.body === "string" ? content.body : "";
    this.callbacks.message(roomId, {
      ...base,
      body,
      state: "ok",
      prompt,
      notice: content.msgtype === "m.notice",
    });
  }

  /** What the bot's structured content means for the widget (render() shows the text itself). */
  private onBotContent(roomId: string, room: RoomInfo, content: Record<string, unknown>): void {
    const kind = messageKind(content);
    if (room.kind === "case") {
      const queue = parseQueue(content["nl.keerpunt.queue"]);
      if (queue) this.callbacks.queue(queue);
      if (kind === "queue.visitor.closed") this.callbacks.closed(roomId);
      if (kind === "handover.later") this.callbacks.reopenPrompt(roomId, "handover");
      return;
    }
    if (kind === "handover.intro") {
      const partner = displayName(parseHandoverPartner(content["nl.keerpunt.handover"]), "");
      if (partner) this.callbacks.partner(roomId, partner);
    } else if (kind === "handover.partner_joined") {
      const member = parsePartnerMember(content["nl.keerpunt.partner"]);
      const organisation = member ? displayName(member.organisation, "") : "";
      if (member && organisation) room.organisations.set(member.user, organisation);
    }
  }

  private async signedRecipientExists(roomId: string): Promise<boolean> {
    const room = this.roomOf(roomId);
    if (!room) return false;
    // Joined members only: case rooms share history with members from their join on, so an
    // invited device gets no key for what is sent now.
    const others = room
      .getJoinedMembers()
      .map((m) => m.userId)
      .filter((u) => u !== this.info.user_id);
    if (others.length === 0) return false;
    const devices = await this.crypto.getUserDeviceInfo(others, true);
    for (const [userId, byId] of devices) {
      for (const deviceId of byId.keys()) {
        const status = await this.crypto.getDeviceVerificationStatus(userId, deviceId);
        if (status?.signedByOwner) return true;
      }
    }
    return false;
  }

  /** Our own device must show as signed by our own cross-signing key before we say anything. */
  private async requireOwnSignature(): Promise<void> {
    const { user_id: me, device_id: device } = this.info;
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      await this.crypto.getUserDeviceInfo([me], true);
      if ((await this.crypto.getDeviceVerificationStatus(me, device))?.signedByOwner) return;
      if (Date.now() > deadline) throw new Error("own device is not cross-signed");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A send can succeed with nobody able to read it: refuse when no recipient device is signed. */
  private async requireSignedRecipient(roomId: string): Promise<void> {
    if (!(await this.signedRecipientExists(roomId))) {
      this.callbacks.untrusted(roomId);
      throw new UntrustedError();
    }
  }

  private nextTxn(): string {
    this.txnCounter += 1;
    return `${this.txnPrefix}.${this.txnCounter}`;
  }

  private async sendRaw(
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    txnId = this.nextTxn(),
  ): Promise<string> {
    const result = await this.client.sendEvent(
      roomId,
      type as keyof TimelineEvents,
      content as never,
      txnId,
    );
    return result.event_id;
  }

  /** Send a text message (or a structured reply) to `roomId`. Resolves once it is on the server. */
  async send(roomId: string, body: string, reply?: { prompt: string; option: string }): Promise<void> {
    if (!this.rooms.has(roomId)) return;
    const content: Record<string, unknown> = { msgtype: "m.text", body };
    if (reply) content[REPLY_KEY] = { prompt: reply.prompt, option: reply.option };
    const txnId = this.nextTxn();
    const out: Outgoing = { key: txnId, room: roomId, txnId, content, eventId: null, status: "sending", body };
    this.outgoing.set(txnId, out);
    this.showOutgoing(out);
    await this.enqueue(out);
  }

  private enqueue(out: Outgoing): Promise<void> {
    const next = this.sending.then(() => this.deliver(out));
    this.sending = next.catch(() => undefined);
    return next;
  }

  /** Send again with the same transaction ID: the server keeps exactly one event. */
  async retry(key: string): Promise<void> {
    const out = this.outgoing.get(key);
    if (!out || out.status !== "failed") return;
    out.status = "sending";
    this.showOutgoing(out);
    await this.enqueue(out);
  }

  private async deliver(out: Outgoing): Promise<void> {
    try {
      // A handover room's key goes only to members in local state (FIELD-NOTES): wait for it.
      await until(() => this.roomOf(out.room)?.getMyMembership() === "join", "the room", 10000);
      await this.requireSignedRecipient(out.room);
      out.eventId = await this.sendRaw(out.room, EventType.RoomMessage, out.content, out.txnId);
      out.status = "sent";
    } catch (error) {
      out.status = "failed";
      this.showOutgoing(out);
      throw error;
    }
    this.showOutgoing(out);
    this.updateReadState(out.room);
  }

  private async resendFailed(): Promise<void> {
    for (const out of this.outgoing.values()) {
      if (out.status === "failed") await this.retry(out.key).catch(() => undefined);
    }
  }

  private showOutgoing(out: Outgoing): void {
    this.callbacks.message(out.room, {
      key: out.key,
      from: "me",
      name: null,
      body: out.body,
      state: "ok",
      prompt: null,
      status: out.status,
      notice: false,
    });
  }

  private updateReadState(roomId: string): void {
    const room = this.roomOf(roomId);
    if (!room) return;
    const readers = room
      .getJoinedMembers()
      .map((m) => m.userId)
      .filter((u) => u !== this.info.user_id && u !== this.info.bot);
    for (const out of this.outgoing.values()) {
      if (out.room !== roomId || out.status !== "sent" || !out.eventId) continue;
      const id = out.eventId;
      if (readers.some((u) => room.hasUserReadEvent(u, id))) {
        out.status = "read";
        this.showOutgoing(out);
      }
    }
  }

  typing(roomId: string, active: boolean): void {
    if (this.stopped || !this.rooms.has(roomId)) return;
    void this.client.sendTyping(roomId, active, 5000).catch(() => undefined);
  }

  /** Stop syncing and drop every listener; the caller drops its reference. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.client.stopClient();
    this.client.removeAllListeners();
    this.outgoing.clear();
    this.retryDecrypt.clear();
    this.shown.clear();
    this.rooms.clear();
  }
}
