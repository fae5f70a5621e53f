/**
 * The encrypted conversation: matrix-js-sdk with Rust crypto, loaded only when the visitor
 * starts (this module is imported lazily by main.ts). Everything is in memory: MemoryStore,
 * MemoryCryptoStore and `initRustCrypto({useIndexedDB: false})`; a reload is a new session.
 *
 * The order matters (DESIGN.md "End-to-end encryption rules", FIELD-NOTES.md):
 * crypto → strict device isolation → cross-signing → sync → join → wait for the room and its
 * members → check that a recipient device is signed by its owner → send `nl.keerpunt.start`.
 */
import {
  ClientEvent,
  createClient,
  EventType,
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
import { parsePrompt, parseQueue, type Prompt, type QueueInfo } from "./content";

export const START_EVENT = "nl.keerpunt.start";
export const REPLY_KEY = "nl.keerpunt.reply";

export type Sender = "me" | "bot" | "staff";
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

export interface SessionCallbacks {
  message(view: MessageView): void;
  remove(key: string): void;
  memberJoined(): void;
  memberLeft(): void;
  typing(names: string[]): void;
  connection(ok: boolean): void;
  queue(info: QueueInfo): void;
  untrusted(): void;
  /** The counsellor closed the case: the bot said goodbye; no more messages go out. */
  closed(): void;
  ended(): void;
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

export class ChatSession {
  private readonly retryDecrypt = new Set<MatrixEvent>();
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
    // loglevel underneath: keep the console quiet (it is memory only, but there is no need).
    (logger as unknown as { setLevel?: (level: string) => void }).setLevel?.("warn");
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
      client.startClient({ initialSyncLimit: 30, lazyLoadMembers: false }).then(() => prepared),
      client.joinRoom(info.room_id),
    ]);
    await this.requireOwnSignature();
    // The room key goes only to members in local state: wait for us and the bot to be there.
    await until(() => {
      const r = client.getRoom(info.room_id);
      return !!r && r.getMyMembership() === "join" && r.getMember(info.bot)?.membership === "join";
    }, "the room and its members");
    await this.requireSignedRecipient();
    await this.sendRaw(START_EVENT, { language });
    performance.mark("kp-start-sent");
  }

  private get room(): Room | null {
    return this.client.getRoom(this.info.room_id);
  }

  private listen(): void {
    const c = this.client;
    c.on(RoomEvent.Timeline, (event, room, toStart) => {
      if (toStart || room?.roomId !== this.info.room_id) return;
      this.onTimeline(event);
    });
    c.on(MatrixEventEvent.Decrypted, (event) => {
      if (event.getRoomId() !== this.info.room_id) return;
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
      if (member.roomId !== this.info.room_id) return;
      const typing = (this.room?.getJoinedMembers() ?? []).filter((m) => m.typing && m.userId !== this.info.user_id);
      this.callbacks.typing(typing.map((m) => (m.userId === this.info.bot ? this.names.bot : this.names.staff)));
    });
    c.on(RoomEvent.Receipt, (_event, room) => {
      if (room.roomId === this.info.room_id) this.updateReadState();
    });
    c.on(RoomStateEvent.Members, (event, _state, member) => this.onMembership(event, member));
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

  private onMembership(event: MatrixEvent, member: RoomMember): void {
    if (member.roomId !== this.info.room_id || this.stopped) return;
    const previous = event.getPrevContent().membership;
    if (member.userId === this.info.user_id) {
      if (member.membership === "leave" || member.membership === "ban") this.callbacks.ended();
      return;
    }
    if (member.userId === this.info.bot) return;
    if (member.membership === "join" && previous !== "join") this.callbacks.memberJoined();
    else if (member.membership !== "join" && previous === "join") this.callbacks.memberLeft();
  }

  private onTimeline(event: MatrixEvent): void {
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
    const key = this.keyOf(event);
    const sender = event.getSender() ?? "";
    const from: Sender = sender === this.info.bot ? "bot" : "staff";
    const member = this.room?.getMember(sender);
    // No display name set: js-sdk falls back to the user ID; show "Counsellor" instead.
    const raw = member?.rawDisplayName ?? null;
    const bare = raw === sender || raw === sender.slice(1).split(":")[0];
    const name = from === "bot" ? this.names.bot : bare ? null : raw;
    const base = { key, from, name, prompt: null, status: null, notice: false } as const;
    if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) {
      this.callbacks.message({ ...base, body: null, state: "decrypting" });
      return;
    }
    if (event.isDecryptionFailure()) {
      const waiting = event.decryptionFailureReason === DecryptionFailureCode.UNKNOWN_SENDER_DEVICE;
      this.callbacks.message({ ...base, body: null, state: waiting ? "decrypting" : "undecryptable" });
      return;
    }
    const type = event.getType();
    const content = event.getContent() as Record<string, unknown>;
    // Buttons and queue news are the bot's alone: from anyone else they are just text.
    const fromBot = from === "bot";
    const prompt = fromBot
      ? parsePrompt(type === "nl.keerpunt.prompt" ? content : content["nl.keerpunt.prompt"])
      : null;
    const queue = fromBot ? parseQueue(content["nl.keerpunt.queue"]) : null;
    if (queue) this.callbacks.queue(queue);
    if (fromBot && content["nl.keerpunt.message"] === "queue.visitor.closed") this.callbacks.closed();
    if (type !== EventType.RoomMessage && type !== "nl.keerpunt.prompt") {
      this.shown.delete(key);
      this.callbacks.remove(key);
      return;
    }
    const body = typeof content.body === "string" ? content.body : "";
    this.callbacks.message({
      ...base,
      body,
      state: "ok",
      prompt,
      notice: content.msgtype === "m.notice",
    });
  }

  private async signedRecipientExists(): Promise<boolean> {
    const room = this.room;
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
  private async requireSignedRecipient(): Promise<void> {
    if (!(await this.signedRecipientExists())) {
      this.callbacks.untrusted();
      throw new UntrustedError();
    }
  }

  private nextTxn(): string {
    this.txnCounter += 1;
    return `${this.txnPrefix}.${this.txnCounter}`;
  }

  private async sendRaw(type: string, content: Record<string, unknown>, txnId = this.nextTxn()): Promise<string> {
    const result = await this.client.sendEvent(
      this.info.room_id,
      type as keyof TimelineEvents,
      content as never,
      txnId,
    );
    return result.event_id;
  }

  /** Send a text message (or a structured reply). Resolves once it is on the server. */
  async send(body: string, reply?: { prompt: string; option: string }): Promise<void> {
    const content: Record<string, unknown> = { msgtype: "m.text", body };
    if (reply) content[REPLY_KEY] = { prompt: reply.prompt, option: reply.option };
    const txnId = this.nextTxn();
    const out: Outgoing = { key: txnId, txnId, content, eventId: null, status: "sending", body };
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
      await this.requireSignedRecipient();
      out.eventId = await this.sendRaw(EventType.RoomMessage, out.content, out.txnId);
      out.status = "sent";
    } catch (error) {
      out.status = "failed";
      this.showOutgoing(out);
      throw error;
    }
    this.showOutgoing(out);
    this.updateReadState();
  }

  private async resendFailed(): Promise<void> {
    for (const out of this.outgoing.values()) {
      if (out.status === "failed") await this.retry(out.key).catch(() => undefined);
    }
  }

  private showOutgoing(out: Outgoing): void {
    this.callbacks.message({
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

  private updateReadState(): void {
    const room = this.room;
    if (!room) return;
    const readers = room
      .getJoinedMembers()
      .map((m) => m.userId)
      .filter((u) => u !== this.info.user_id && u !== this.info.bot);
    for (const out of this.outgoing.values()) {
      if (out.status !== "sent" || !out.eventId) continue;
      const id = out.eventId;
      if (readers.some((u) => room.hasUserReadEvent(u, id))) {
        out.status = "read";
        this.showOutgoing(out);
      }
    }
  }

  typing(active: boolean): void {
    if (this.stopped) return;
    void this.client.sendTyping(this.info.room_id, active, 5000).catch(() => undefined);
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
  }
}
