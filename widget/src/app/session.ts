/**
 * The encrypted conversation: matrix-js-sdk with Rust crypto, loaded only when the visitor
 * starts (loader.ts imports this module lazily). This file is the facade the app talks to and the
 * one place where the session's parts are put together:
 *
 * - session/startup.ts: the in-memory crypto client, cross-signing, sync, join, speaking first;
 * - session/trust.ts: our own signature, and a signed recipient before anything goes out;
 * - session/rooms.ts: the case room and handover rooms (joined only on the bot's invite);
 * - session/events.ts + timeline.ts: events rendered to message views, decryption retries;
 * - session/outbox.ts: sending with stable transaction IDs, retries and read state;
 * - session/listen.ts: the client's events, routed to the parts above.
 */
import { initAsync } from "@matrix-org/matrix-sdk-crypto-wasm";
import { ClientEvent, SyncState, type IStartClientOpts, type MatrixClient, type MatrixEvent, type TimelineEvents } from "matrix-js-sdk";
import type { CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js";
import type { SessionInfo } from "./api";
import { listen } from "./session/listen";
import { Outbox, txnIds } from "./session/outbox";
import { Rooms } from "./session/rooms";
import { protect, quickBackups, SecretKey, settle } from "./session/recovery";
import { begin, ClientRun, cryptoClient, quietLogger, resume } from "./session/startup";
import { Timeline } from "./session/timeline";
import { Trust } from "./session/trust";
import type { Names, Returning, SessionCallbacks } from "./session/types";
import { unlessAborted, until } from "./session/wait";

export { START_EVENT } from "./session/startup";
export { REPLY_KEY } from "./session/outbox";
export { UntrustedError } from "./session/trust";
export type { MessageView, Names, RoomKind, Sender, SendState, SessionCallbacks } from "./session/types";

/**
 * Fetch and compile the crypto wasm now (while the session API creates the account and room);
 * `initRustCrypto` later finds it ready. Safe to call more than once.
 */
export function warmUp(): void {
  initAsync().catch(() => undefined);
  quickBackups();
}

type Backend = Parameters<MatrixEvent["attemptDecryption"]>[0];

export class ChatSession {
  private stopped = false;
  private readonly listening = new AbortController();
  private readonly rooms: Rooms;
  private readonly outbox: Outbox;
  private readonly timeline: Timeline;
  private readonly trust: Trust;
  private readonly nextTxn = txnIds();
  private readonly run: ClientRun;
  /** A returning visitor's first sync is shown as history ("show") or hidden ("hide"). */
  private replay: "show" | "hide" | null = null;

  /** Puts the parts together and starts listening; `open()` does crypto and sync first. */
  constructor(
    private readonly client: MatrixClient,
    private readonly crypto: CryptoApi,
    readonly info: SessionInfo,
    callbacks: SessionCallbacks,
    names: Names,
    private readonly secret: SecretKey = new SecretKey(),
  ) {
    this.run = new ClientRun(client);
    const me = info.user_id;
    const bot = info.bot;
    const stopped = (): boolean => this.stopped;
    const roomOf = (roomId: string) => client.getRoom(roomId);
    this.trust = new Trust(crypto, { user: me, device: info.device_id }, roomOf, (room) => callbacks.untrusted(room));
    this.rooms = new Rooms({ me, bot, caseRoom: info.room_id, join: (room) => client.joinRoom(room), callbacks, stopped });
    this.outbox = new Outbox({
      // A handover room's key goes only to members in local state (FIELD-NOTES): wait for it.
      ready: async (room) => {
        await until(() => roomOf(room)?.getMyMembership() === "join", "the room", 10000);
        await this.trust.requireSignedRecipient(room);
      },
      send: (room, type, content, txnId) => this.sendEvent(room, type, content, txnId),
      show: (room, view) => callbacks.message(room, view),
      isRead: (roomId, eventId) => {
        const room = roomOf(roomId);
        const readers = (room?.getJoinedMembers() ?? []).map((m) => m.userId).filter((u) => u !== me && u !== bot);
        return !!room && readers.some((u) => room.hasUserReadEvent(u, eventId));
      },
      nextTxn: this.nextTxn,
    });
    this.timeline = new Timeline({
      me,
      bot,
      names,
      rooms: this.rooms,
      callbacks,
      displayNameOf: (roomId, user) => roomOf(roomId)?.getMember(user)?.rawDisplayName ?? null,
      markRead: (event) => {
        if (document.visibilityState === "visible") {
          void client.sendReadReceipt(event as MatrixEvent).catch(() => undefined);
        }
      },
      forgetOwn: (eventId) => this.outbox.forget(eventId),
      crypto: crypto as unknown as Backend,
      replaying: () => this.replay,
    });
    const network = typeof window === "undefined" ? undefined : { target: window, signal: this.listening.signal };
    listen(client, { me, bot, names, rooms: this.rooms, timeline: this.timeline, outbox: this.outbox, callbacks, stopped, network });
  }

  /**
   * Set up crypto, sync, join and speak first. Throws UntrustedError when nobody can read us.
   * `signal` aborted (the app was torn down meanwhile): the client stops (ClientRun), nothing
   * more is sent, and this rejects at once.
   */
  static async open(
    info: SessionInfo,
    language: string,
    callbacks: SessionCallbacks,
    names: Names,
    signal?: AbortSignal,
    returning?: Returning,
  ): Promise<ChatSession> {
    signal?.throwIfAborted();
    quietLogger();
    const secret = new SecretKey();
    if (returning) secret.set(returning.ssss.slice());
    // A new visitor joins the case room while the crypto starts: the first sync then has the
    // room with its members, which the first send waits for (session/startup.ts).
    let joined: Promise<unknown> | undefined;
    const join = (c: MatrixClient): void => {
      joined = c.joinRoom(info.room_id);
      joined.catch(() => undefined); // begin() awaits it and fails the start
    };
    const { client, crypto } = await cryptoClient(info, undefined, secret, returning ? undefined : join);
    const session = new ChatSession(client, crypto, info, callbacks, names, secret);
    if (returning) {
      session.replay = returning.history ? "show" : "hide";
      // The earlier conversation is what the first sync brings; everything after it is live.
      const live = (state: SyncState): void => {
        if (state !== SyncState.Prepared && state !== SyncState.Syncing) return;
        session.replay = null;
        client.off(ClientEvent.Sync, live);
      };
      client.on(ClientEvent.Sync, live);
    }
    const stop = (): void => session.stop();
    signal?.addEventListener("abort", stop, { once: true });
    try {
      signal?.throwIfAborted();
      const steps = {
        client,
        startClient: (opts: IStartClientOpts) => session.run.start(opts),
        crypto,
        info,
        trust: session.trust,
        send: (room: string, type: string, content: Record<string, unknown>) => session.sendEvent(room, type, content),
        signal,
        joined,
        prepare: (room: string) => {
          const r = client.getRoom(room);
          if (r) crypto.prepareToEncrypt(r);
        },
      };
      const steps$ = returning ? resume(steps, returning.history) : begin(steps, language);
      await unlessAborted(steps$, signal);
    } catch (error) {
      session.stop(); // never leave a half-started client syncing in the background
      throw error;
    } finally {
      signal?.removeEventListener("abort", stop);
    }
    return session;
  }

  /** Send a text message (or a structured reply) to `roomId`. Resolves once it is on the server. */
  async send(roomId: string, body: string, reply?: { prompt: string; option: string }): Promise<void> {
    if (!this.rooms.has(roomId)) return;
    await this.outbox.send(roomId, body, reply);
  }

  /** Send a failed message again, with the same transaction ID. */
  retry(key: string): Promise<void> {
    return this.outbox.retry(key);
  }

  /** A return code was made (or rotated): keep the history under its 4S key (session/recovery.ts). */
  async protect(key: Uint8Array): Promise<void> {
    if (this.stopped) throw new Error("the session was stopped");
    await protect(this.crypto, this.secret, key);
  }

  /** Wait until the key backup holds every room key we have (before the device goes away). */
  settle(limitMs: number): Promise<boolean> {
    return settle(this.client, this.crypto, limitMs);
  }

  typing(roomId: string, active: boolean): void {
    if (this.stopped || !this.rooms.has(roomId)) return;
    void this.client.sendTyping(roomId, active, 5000).catch(() => undefined);
  }

  /** Stop syncing and drop every listener and everything held in memory; the caller drops its reference. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.run.stop(); // also when its start is still running (ClientRun)
    this.client.removeAllListeners();
    this.listening.abort(); // the window's online/offline listeners
    this.secret.clear();
    this.outbox.clear();
    this.timeline.clear();
    this.rooms.clear();
  }

  private async sendEvent(
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    txnId = this.nextTxn(),
  ): Promise<string> {
    const result = await this.client.sendEvent(roomId, type as keyof TimelineEvents, content as never, txnId);
    return result.event_id;
  }
}
