// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { ClientEvent, MemoryCryptoStore, MemoryStore, SyncState } from "matrix-js-sdk";
import { OnlySignedDevicesIsolationMode } from "matrix-js-sdk/lib/crypto-api/index.js";
import { logger } from "matrix-js-sdk/lib/logger.js";
import {
  begin,
  ClientRun,
  cryptoClient,
  quietLogger,
  START_EVENT,
  TIMELINE_LIMIT,
  type BeginSteps,
} from "../../src/app/session/startup";
import { UntrustedError } from "../../src/app/session/trust";

const BOT = "@keerpunt:k";
const info = { homeserver: "https://hs.test", user_id: "@visitor-x:k", access_token: "tok", device_id: "DEV", room_id: "!case:k", bot: BOT, case: "1" };

describe("cryptoClient", () => {
  function fakeCreate(withCrypto = true) {
    const crypto = { setDeviceIsolationMode: vi.fn() };
    const client = { initRustCrypto: vi.fn(async () => undefined), getCrypto: () => (withCrypto ? crypto : undefined) };
    const create = vi.fn((_options: unknown) => client);
    return { create, client, crypto };
  }

  it("keeps the store and the crypto store in memory, and Rust crypto out of IndexedDB", async () => {
    const { create, client } = fakeCreate();
    await cryptoClient(info, create as never);
    const options = create.mock.calls[0]?.[0] as unknown as Record<string, unknown>;
    expect(options).toMatchObject({ baseUrl: "https://hs.test", userId: "@visitor-x:k", deviceId: "DEV", accessToken: "tok" });
    expect(options.store).toBeInstanceOf(MemoryStore);
    expect(options.cryptoStore).toBeInstanceOf(MemoryCryptoStore);
    expect(client.initRustCrypto).toHaveBeenCalledWith({ useIndexedDB: false });
  });

  it("shares keys only with devices their owner signed (strict device isolation)", async () => {
    const { create, crypto } = fakeCreate();
    await cryptoClient(info, create as never);
    expect(crypto.setDeviceIsolationMode).toHaveBeenCalledTimes(1);
    expect(crypto.setDeviceIsolationMode.mock.calls[0]?.[0]).toBeInstanceOf(OnlySignedDevicesIsolationMode);
  });

  it("refuses to go on without crypto", async () => {
    const { create } = fakeCreate(false);
    await expect(cryptoClient(info, create as never)).rejects.toThrow("crypto did not start");
  });
});

describe("quietLogger", () => {
  it("sets js-sdk's log level without persisting it", () => {
    const log = { setLevel: vi.fn() };
    quietLogger(log);
    expect(log.setLevel).toHaveBeenCalledWith("warn", false);
  });

  it("leaves nothing in localStorage (loglevel would write 'loglevel:matrix' otherwise)", () => {
    localStorage.clear();
    (logger as unknown as { setLevel(level: string): void }).setLevel("warn"); // the trap this avoids
    expect(localStorage.length).toBeGreaterThan(0);
    localStorage.clear();
    quietLogger();
    expect(localStorage.length).toBe(0);
  });
});

/** A client, crypto and trust that write down what happens, in order. */
function steps(over: { botMembership?: () => string; trust?: Partial<BeginSteps["trust"]>; signal?: AbortSignal } = {}) {
  const log: string[] = [];
  const handlers = new Map<string, ((state: SyncState) => void)[]>();
  let syncOptions: Record<string, unknown> = {};
  const startClient = async (options: Record<string, unknown>) => {
    syncOptions = options;
    log.push("sync started");
    setTimeout(() => {
      log.push("synced");
      for (const h of handlers.get(ClientEvent.Sync) ?? []) h(SyncState.Prepared);
    }, 20);
  };
  const client = {
    on: (name: string, fn: (state: SyncState) => void) => handlers.set(name, [...(handlers.get(name) ?? []), fn]),
    off: (name: string, fn: (state: SyncState) => void) => handlers.set(name, (handlers.get(name) ?? []).filter((h) => h !== fn)),
    joinRoom: async (room: string) => void log.push(`join ${room}`),
    getRoom: (room: string) =>
      room === info.room_id
        ? { getMyMembership: () => "join", getMember: (u: string) => (u === BOT ? { membership: over.botMembership?.() ?? "join" } : null) }
        : null,
  };
  const crypto = {
    bootstrapCrossSigning: async (opts: {
      setupNewCrossSigning?: boolean;
      authUploadDeviceSigningKeys?: (make: (auth: null) => Promise<unknown>) => Promise<void>;
    }) => {
      if (opts.setupNewCrossSigning) log.push("new cross-signing keys");
      await opts.authUploadDeviceSigningKeys?.(async (auth) => log.push(`cross-signing keys uploaded, auth ${auth}`));
    },
  };
  const trust = {
    requireOwnSignature: async () => void log.push("own device signed"),
    requireSignedRecipient: async (room: string) => void log.push(`signed recipient in ${room}`),
    ...over.trust,
  };
  const send = vi.fn(async (room: string, type: string, content: Record<string, unknown>) => {
    log.push(`send ${type} to ${room}: ${JSON.stringify(content)}`);
  });
  const s = { client, startClient, crypto, info, trust, send, signal: over.signal } as unknown as BeginSteps;
  return { s, log, send, handlers, syncOptions: () => syncOptions };
}

describe("begin", () => {
  it("cross-signs, syncs and joins before it checks anything, and speaks first last", async () => {
    const { s, log } = steps();
    await begin(s, "en");
    const first = log.slice(0, 5).sort();
    expect(first).toEqual(
      ["new cross-signing keys", "cross-signing keys uploaded, auth null", "join !case:k", "sync started", "synced"].sort(),
    );
    expect(log.slice(5, 7).sort()).toEqual(["own device signed", "signed recipient in !case:k"]);
    expect(log.slice(7)).toEqual([`send ${START_EVENT} to !case:k: {"language":"en"}`]);
  });

  it("shares the room key once a signed recipient is known, before the start event goes out", async () => {
    const { s, log } = steps();
    (s as { prepare?: (room: string) => void }).prepare = (room) => void log.push(`room key shared in ${room}`);
    await begin(s, "en");
    const shared = log.indexOf("room key shared in !case:k");
    expect(shared).toBeGreaterThan(log.indexOf("signed recipient in !case:k"));
    expect(shared).toBeLessThan(log.findIndex((line) => line.startsWith("send ")));
  });

  it("fetches the bot's device keys with the first round trips", async () => {
    const prefetch = vi.fn(async () => undefined);
    const { s } = steps({ trust: { prefetch } });
    await begin(s, "nl");
    expect(prefetch).toHaveBeenCalledWith([BOT]);
  });

  it("syncs with all members and a timeline long enough for a handover room's history", async () => {
    const { s, syncOptions, handlers } = steps();
    await begin(s, "nl");
    const options = syncOptions();
    expect(options.lazyLoadMembers).toBe(false);
    const filter = options.filter as { getDefinition(): { room?: { timeline?: { limit?: number } } } };
    expect(filter.getDefinition().room?.timeline?.limit).toBe(TIMELINE_LIMIT);
    expect(TIMELINE_LIMIT).toBeGreaterThanOrEqual(100);
    expect(handlers.get(ClientEvent.Sync)).toEqual([]); // its own sync listener is gone
  });

  it("waits until the bot is a member in local state before checking who can read us", async () => {
    let botMembership = "invite";
    setTimeout(() => (botMembership = "join"), 150);
    const { s, log } = steps({ botMembership: () => botMembership });
    const started = Date.now();
    await begin(s, "nl");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(log.at(-2)).toBe("signed recipient in !case:k");
  });

  it("sends nothing when nobody in the room could read it", async () => {
    const { s, send } = steps({ trust: { requireSignedRecipient: async () => Promise.reject(new UntrustedError()) } });
    await expect(begin(s, "nl")).rejects.toBeInstanceOf(UntrustedError);
    expect(send).not.toHaveBeenCalled();
  });

  it("sends nothing while our own device is not cross-signed", async () => {
    const { s, send, log } = steps({ trust: { requireOwnSignature: async () => Promise.reject(new Error("own device is not cross-signed")) } });
    await expect(begin(s, "nl")).rejects.toThrow("own device is not cross-signed");
    expect(send).not.toHaveBeenCalled();
    expect(log.some((l) => l.startsWith("send"))).toBe(false);
  });
});

describe("begin, when the app is torn down meanwhile", () => {
  it("starts nothing when already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const { s, log, send } = steps({ signal: controller.signal });
    await expect(begin(s, "nl")).rejects.toThrow();
    expect(log).toEqual([]);
    expect(send).not.toHaveBeenCalled();
  });

  it("stops waiting for the room at once and sends nothing", async () => {
    const controller = new AbortController();
    const { s, send } = steps({ botMembership: () => "invite", signal: controller.signal });
    const started = Date.now();
    const begun = begin(s, "nl");
    setTimeout(() => controller.abort(), 100);
    await expect(begun).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(1000); // not the 30 s the wait may take
    expect(send).not.toHaveBeenCalled();
  });

  it("does not speak first when aborted during the last check", async () => {
    const controller = new AbortController();
    const { s, send } = steps({
      signal: controller.signal,
      trust: {
        requireSignedRecipient: async () => {
          controller.abort();
        },
      },
    });
    await expect(begin(s, "nl")).rejects.toMatchObject({ name: "AbortError" });
    expect(send).not.toHaveBeenCalled();
  });
});

describe("ClientRun", () => {
  function client() {
    let finish: () => void = () => undefined;
    const c = {
      startClient: vi.fn(() => new Promise<void>((resolve) => (finish = resolve))),
      stopClient: vi.fn(),
    };
    return { c, finish: () => finish() };
  }

  it("stops at once when no start is running", async () => {
    const { c, finish } = client();
    const run = new ClientRun(c as never);
    const started = run.start();
    finish();
    await started;
    run.stop();
    expect(c.stopClient).toHaveBeenCalledTimes(1);
  });

  it("waits for a running start before it stops (js-sdk would start syncing after an early stop)", async () => {
    const { c, finish } = client();
    const run = new ClientRun(c as never);
    const started = run.start();
    run.stop();
    run.stop();
    expect(c.stopClient).not.toHaveBeenCalled();
    finish();
    await started;
    await vi.waitFor(() => expect(c.stopClient).toHaveBeenCalledTimes(1));
  });

  it("starts nothing after a stop", async () => {
    const { c } = client();
    const run = new ClientRun(c as never);
    run.stop();
    await expect(run.start()).rejects.toThrow("stopped");
    expect(c.startClient).not.toHaveBeenCalled();
  });
});
