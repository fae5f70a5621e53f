// An Element-like counsellor for the tests: matrix-js-sdk with the Rust crypto (the widget's copy
// in widget/node_modules), in strict mode (OnlySignedDevicesIsolationMode), on a new device that
// sets up its own cross-signing, as Element does at a first sign-in. Driven by
// tests/support/element.py over JSON lines:
//
//   stdin  1st line  {"homeserver", "user_id", "password"}   (on stdin, never in a process list)
//   stdout           {"signed": true}           the device's cross-signing is set up (before the sync)
//                    {"ready": {"device_id"}}   logged in, cross-signed, synced, keys uploaded
//   stdin            {"id", "op": "send", "room", "type", "content"}  → {"id", "event_id"}
//                    {"id", "op": "join", "room"}                     → {"id", "ok": true}
//   stdout           {"event": {...}}   every event of a joined room as Element would show it:
//                                       decrypted (type, content, shield) or why not
//                    {"invite": room}   an invitation
//                    {"id", "error"}    an operation failed
// js-sdk's own logs go to stderr (warnings and errors only).

// Node 20 lacks Promise.withResolvers, which js-sdk 43 (made for Node >= 22) calls.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

import { createInterface } from "node:readline";

const sdk = new URL("../../widget/node_modules/matrix-js-sdk/lib/", import.meta.url);
const { createClient, ClientEvent, MatrixEventEvent, MemoryCryptoStore, MemoryStore, RoomEvent, RoomMemberEvent } =
  await import(new URL("index.js", sdk).href);
const { CryptoEvent, DecryptionFailureCode, OnlySignedDevicesIsolationMode } = await import(
  new URL("crypto-api/index.js", sdk).href
);
const { logger } = await import(new URL("logger.js", sdk).href);
logger.setLevel("warn", false);
for (const level of ["log", "info", "debug", "trace"]) console[level] = () => {};
console.warn = console.error;

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await lines.next();
  return done ? null : value;
};

const cfg = JSON.parse(await next());
const login = await createClient({ baseUrl: cfg.homeserver }).loginRequest({
  type: "m.login.password",
  identifier: { type: "m.id.user", user: cfg.user_id },
  password: cfg.password,
  initial_device_display_name: "Element (js-sdk test)",
});
const client = createClient({
  baseUrl: cfg.homeserver,
  userId: login.user_id,
  deviceId: login.device_id,
  accessToken: login.access_token,
  store: new MemoryStore(),
  cryptoStore: new MemoryCryptoStore(),
});
await client.initRustCrypto({ useIndexedDB: false });
const crypto = client.getCrypto();
crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());

// What Element shows of an event; a strict-mode failure for a sender whose keys came late is
// tried again when device lists change (js-sdk does not retry it by itself: FIELD-NOTES).
const waiting = new Set();
async function report(event, room) {
  const roomId = room?.roomId ?? event.getRoomId();
  if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) return;
  const failed = event.isDecryptionFailure();
  if (failed && event.decryptionFailureReason === DecryptionFailureCode.UNKNOWN_SENDER_DEVICE) waiting.add(event);
  else waiting.delete(event);
  const info = event.isEncrypted() && !failed ? await crypto.getEncryptionInfoForEvent(event) : null;
  out({
    event: {
      room_id: roomId,
      event_id: event.getId(),
      sender: event.getSender(),
      encrypted: event.isEncrypted(),
      decrypted: !failed,
      failure: failed ? event.decryptionFailureReason : null,
      type: failed ? null : event.getType(),
      state_key: event.getStateKey() ?? null,
      content: failed ? null : event.getContent(),
      shield: info && { colour: info.shieldColour, reason: info.shieldReason },
    },
  });
}
client.on(RoomEvent.Timeline, (event, room, toStart) => {
  if (!toStart) void report(event, room);
});
client.on(MatrixEventEvent.Decrypted, (event) => void report(event, null));
const retry = () => {
  for (const event of [...waiting]) void event.attemptDecryption(crypto, { isRetry: true });
};
client.on(CryptoEvent.DevicesUpdated, retry);
client.on(CryptoEvent.UserTrustStatusChanged, retry);
client.on(RoomMemberEvent.Membership, (_event, member) => {
  if (member.userId === login.user_id && member.membership === "invite") out({ invite: member.roomId });
});

// Cross-signing for this first device, as Element sets it up (a password for the upload when
// the server asks for one).
await crypto.bootstrapCrossSigning({
  setupNewCrossSigning: true,
  authUploadDeviceSigningKeys: async (makeRequest) => {
    try {
      await makeRequest(null);
    } catch (error) {
      const session = error?.data?.session;
      await makeRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: login.user_id },
        password: cfg.password,
        session,
      });
    }
  },
});
out({ signed: true }); // this first device is cross-signed now (the tests time from here)
const synced = new Promise((resolve) => client.on(ClientEvent.Sync, (state) => state === "PREPARED" && resolve()));
await client.startClient({ initialSyncLimit: 50 });
await synced;
for (;;) {
  const keys = await client.downloadKeysForUsers([login.user_id]);
  const device = keys.device_keys?.[login.user_id]?.[login.device_id];
  if (device && Object.keys(device.signatures?.[login.user_id] ?? {}).length > 1) break; // self-signed too
  await sleep(100);
}
out({ ready: { device_id: login.device_id } });

async function room(roomId) {
  for (let i = 0; i < 200; i++) {
    const found = client.getRoom(roomId);
    if (found?.getMyMembership() === "join") return found;
    await sleep(50);
  }
  throw new Error(`not in room ${roomId}`);
}

async function run(op) {
  if (op.op === "join") {
    await client.joinRoom(op.room);
    await room(op.room);
    return { ok: true };
  }
  if (op.op === "send") {
    const joined = await room(op.room);
    // The members and their devices first, or a member who just joined gets no room key.
    await joined.loadMembersIfNeeded();
    const members = joined.getJoinedMembers().map((m) => m.userId);
    await crypto.getUserDeviceInfo(members, true);
    const sent = await client.sendEvent(op.room, op.type ?? "m.room.message", op.content);
    return { event_id: sent.event_id };
  }
  throw new Error(`unknown op ${op.op}`);
}

for (;;) {
  const line = await next();
  if (line === null) break;
  const op = JSON.parse(line);
  run(op).then(
    (result) => out({ id: op.id, ...result }),
    (error) => out({ id: op.id, error: String(error?.message ?? error) }),
  );
}
client.stopClient();
process.exit(0);
