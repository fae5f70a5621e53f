/**
 * Starting the encrypted session. Everything is in memory (SECURITY.md A.4): MemoryStore,
 * MemoryCryptoStore and `initRustCrypto({useIndexedDB: false})`, and js-sdk's logger never
 * persists its level; a reload is a new session.
 *
 * The order matters (DESIGN.md "End-to-end encryption rules", FIELD-NOTES.md):
 * crypto → strict device isolation → cross-signing, sync, join and the bot's keys (at once) →
 * our own signature, and (once the room and its members are in local state) a recipient device
 * signed by its owner (at once) → send `nl.keerpunt.start`.
 */
import {
  ClientEvent,
  createClient,
  Filter,
  MemoryCryptoStore,
  MemoryStore,
  SyncState,
  type IStartClientOpts,
  type MatrixClient,
} from "matrix-js-sdk";
import { OnlySignedDevicesIsolationMode, type CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js";
import { logger } from "matrix-js-sdk/lib/logger.js";
import type { SessionInfo } from "../api";
import { cryptoCallbacks, deviceKeysUploaded, takeUp, type SecretKey } from "./recovery";
import { until } from "./wait";

/** The visitor speaks first (DESIGN.md rule 7): the bot greets in reply to this event. */
export const START_EVENT = "nl.keerpunt.start";

/**
 * Every sync asks for up to this many timeline events per room. js-sdk's default (10 after the
 * first sync) is less than a handover room holds before the visitor joins (state events,
 * invites, the introduction and the summary), and a gap would hide the summary.
 */
export const TIMELINE_LIMIT = 100;

/**
 * A returning visitor's first sync brings the earlier conversation: up to this many events of
 * each room (a longer conversation shows its last HISTORY_LIMIT events).
 */
export const HISTORY_LIMIT = 500;

type Leveled = { setLevel?: (level: string, persist?: boolean) => void };

/**
 * loglevel underneath js-sdk: keep the console quiet. `false`: loglevel would otherwise persist
 * the level in localStorage ("loglevel:matrix"), a trace left after the chat (SECURITY.md A.4).
 */
export function quietLogger(log: Leveled = logger as unknown as Leveled): void {
  log.setLevel?.("warn", false);
}

/**
 * A client for the session's account and device, with in-memory Rust crypto in strict mode.
 * `secret`: the return code's 4S key, handed to js-sdk when it asks (session/recovery.ts).
 * `early`: round trips that need no crypto, started while the crypto starts (the join).
 */
export async function cryptoClient(
  info: SessionInfo,
  create: typeof createClient = createClient,
  secret?: SecretKey,
  early?: (client: MatrixClient) => void,
): Promise<{ client: MatrixClient; crypto: CryptoApi }> {
  const client = create({
    baseUrl: info.homeserver,
    userId: info.user_id,
    deviceId: info.device_id,
    accessToken: info.access_token,
    store: new MemoryStore(),
    cryptoStore: new MemoryCryptoStore(),
    timelineSupport: false,
    ...(secret ? { cryptoCallbacks: cryptoCallbacks(secret) } : {}),
  });
  early?.(client);
  await client.initRustCrypto({ useIndexedDB: false });
  const crypto = client.getCrypto();
  if (!crypto) throw new Error("crypto did not start");
  crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
  return { client, crypto };
}

/**
 * Starts and stops the client's sync. js-sdk's startClient() makes its sync loop only after its
 * own first requests, and a stopClient() that comes before that leaves the loop made afterwards
 * running: a stop while the start runs therefore waits for the start. No start after a stop.
 */
export class ClientRun {
  private starting: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly client: Pick<MatrixClient, "startClient" | "stopClient">) {}

  start(opts?: IStartClientOpts): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the client was stopped"));
    const started = this.client.startClient(opts);
    const done = (): void => {
      if (this.starting === settled) this.starting = null;
    };
    const settled: Promise<void> = started.then(done, done);
    this.starting = settled;
    return started;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.starting) void this.starting.then(() => this.client.stopClient());
    else this.client.stopClient();
  }
}

export interface BeginSteps {
  client: Pick<MatrixClient, "on" | "off" | "joinRoom" | "getRoom">;
  /** Starts the client's sync (ClientRun.start). */
  startClient(opts: IStartClientOpts): Promise<void>;
  crypto: Pick<CryptoApi, "bootstrapCrossSigning">;
  info: SessionInfo;
  trust: {
    requireOwnSignature(): Promise<void>;
    requireSignedRecipient(roomId: string): Promise<void>;
    /** Fetch these users' device keys now (the bot's: the recipient check and the room key need them). */
    prefetch?(users: string[]): Promise<void>;
  };
  /** Sends one event to the case room with a fresh transaction ID. */
  send(roomId: string, type: string, content: Record<string, unknown>): Promise<unknown>;
  /** Aborted: the app was torn down; nothing more happens (above all, nothing is sent). */
  signal?: AbortSignal;
  /** The join of the case room, when it was started already (with the crypto: `cryptoClient`). */
  joined?: Promise<unknown>;
  /** Share the room key with the room's (signed) member devices now, before the first send. */
  prepare?(roomId: string): void;
}

function timelineFilter(user: string, limit: number): Filter {
  const filter = new Filter(user);
  filter.setDefinition({ room: { timeline: { limit } } });
  return filter;
}

/** Resolves when the client's first sync is done (its events are in local state). */
function firstSync(client: Pick<MatrixClient, "on" | "off">): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSync = (state: SyncState): void => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) {
        client.off(ClientEvent.Sync, onSync);
        resolve();
      }
    };
    client.on(ClientEvent.Sync, onSync);
  });
}

/**
 * Cross-sign, sync, join, and speak first. Rejects (sending nothing) when nobody can read us, or
 * when `steps.signal` is aborted.
 */
export async function begin(steps: BeginSteps, language: string): Promise<void> {
  const { client, crypto, info, trust, signal } = steps;
  signal?.throwIfAborted();
  const filter = timelineFilter(info.user_id, TIMELINE_LIMIT);
  const prepared = firstSync(client);
  // Independent round trips at once: cross-signing (the first upload of a fresh account's keys
  // needs no interactive auth), the first sync, joining the case room (we were invited in
  // createRoom) and the bot's device keys. Nothing is sent before all of them are done.
  // The account is brand new (a start always gets a new one): new cross-signing keys at once,
  // without first looking for keys in secret storage (three round trips one after another).
  await Promise.all([
    crypto.bootstrapCrossSigning({
      setupNewCrossSigning: true,
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest(null);
      },
    }),
    steps.startClient({ initialSyncLimit: 30, lazyLoadMembers: false, filter }).then(() => prepared),
    steps.joined ?? client.joinRoom(info.room_id),
    trust.prefetch?.([info.bot]),
  ]);
  signal?.throwIfAborted();
  // Two independent checks at once; the start event goes out only when both hold: our own
  // device shows as cross-signed, and a recipient (the bot, a member in local state: the room
  // key goes only to those) has a device signed by its owner.
  const recipient = async (): Promise<void> => {
    await until(
      () => {
        const r = client.getRoom(info.room_id);
        return !!r && r.getMyMembership() === "join" && r.getMember(info.bot)?.membership === "join";
      },
      "the room and its members",
      undefined,
      signal,
    );
    signal?.throwIfAborted();
    await trust.requireSignedRecipient(info.room_id);
    // The key claim and the room key for the bot's device go out now, while our own signature
    // is still being checked; the start event then only needs encrypting and sending. Our device
    // is signed before the bot sees that event (the bot checks the sender when it decrypts).
    steps.prepare?.(info.room_id);
  };
  await Promise.all([trust.requireOwnSignature(), recipient()]);
  signal?.throwIfAborted();
  await steps.send(info.room_id, START_EVENT, { language });
  performance.mark("kp-start-sent");
}

export interface ResumeSteps extends Omit<BeginSteps, "client" | "crypto" | "send"> {
  client: Pick<MatrixClient, "on" | "off" | "getRoom" | "downloadKeysForUsers" | "secretStorage">;
  crypto: Parameters<typeof takeUp>[1];
}

/**
 * A returning visitor (docs/return-code.md "Returning"), on a device that logged in with the
 * code's login secret: sync (the case room is joined already; the first sync brings the earlier
 * conversation), then take up the visitor's identity from 4S and sign this device, and with
 * `history` restore the keys (session/recovery.ts). Nothing is sent: the counsellor and the bot
 * know the visitor already, and the bot tells the counsellor about the return.
 */
export async function resume(steps: ResumeSteps, history: boolean): Promise<void> {
  const { client, crypto, info, trust, signal } = steps;
  signal?.throwIfAborted();
  const prepared = firstSync(client);
  await Promise.all([
    // js-sdk's first sync takes its timeline limit from initialSyncLimit (default 8), not the filter.
    steps.startClient({ initialSyncLimit: HISTORY_LIMIT, lazyLoadMembers: false, filter: timelineFilter(info.user_id, HISTORY_LIMIT) }).then(() => prepared),
    trust.prefetch?.([info.bot]),
  ]);
  signal?.throwIfAborted();
  // js-sdk uploads the new device's keys after the first sync; a signature before that is refused.
  await deviceKeysUploaded(client, { user: info.user_id, device: info.device_id }, 15000);
  signal?.throwIfAborted();
  await takeUp(client, crypto, info.user_id, history);
  signal?.throwIfAborted();
  await trust.requireOwnSignature();
  performance.mark("kp-restored");
}
