// A counsellor's new session on Element's own crypto stack: matrix-js-sdk with the Rust crypto
// (the widget's copy in widget/node_modules) in strict mode, OnlySignedDevicesIsolationMode.
// Driven by tests/e2e/queue/test_new_session_jssdk.py over JSON lines:
//
//   stdin  1st line  {"homeserver", "user_id", "password", "room_id", "within"}  (the password
//                    comes on stdin, not argv, so it never shows in a process list)
//   stdout           {"device_id": ...}     once logged in (a new device), synced and the
//                                           device's keys are on the server
//   stdin  2nd line  anything               "the device is now cross-signed"
//   stdout           {"event": {...}}       every decryption attempt of an encrypted event in
//                                           the room: ok (with content and shield) or failure
//                                           reason, ms since signing
//   stdout           {"done": [...]}        at the deadline (`within` s after signing) or when
//                                           stdin closes: the last outcome of every event
// Logs of js-sdk go to stderr (warnings only).

// Node 20 lacks Promise.withResolvers, which js-sdk 43 (made for Node >= 22) calls when it
// encrypts or decrypts; the browsers the widget targets have it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

import { createInterface } from "node:readline";

// The widget's node_modules, not a bare specifier: Node looks for bare ones next to this file.
const sdk = new URL("../../../widget/node_modules/matrix-js-sdk/lib/", import.meta.url);
const { createClient, ClientEvent, MatrixEventEvent, MemoryCryptoStore, MemoryStore } = await import(
  new URL("index.js", sdk).href
);
const { OnlySignedDevicesIsolationMode } = await import(new URL("crypto-api/index.js", sdk).href);
const { logger } = await import(new URL("logger.js", sdk).href);
logger.setLevel("warn", false);
// js-sdk logs with console.* and its level does not reach every child logger: stdout belongs to
// the protocol, so warnings and errors go to stderr (the test shows them when it fails), the
// rest nowhere.
for (const level of ["log", "info", "debug", "trace"]) console[level] = () => {};
console.warn = console.error;

const send = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await lines.next();
  return done ? null : value;
};

const cfg = JSON.parse(await next());

// Password login: a new device, as when a counsellor signs in to Element on a new laptop.
const login = await createClient({ baseUrl: cfg.homeserver }).loginRequest({
  type: "m.login.password",
  identifier: { type: "m.id.user", user: cfg.user_id },
  password: cfg.password,
  initial_device_display_name: "js-sdk test",
});
const client = createClient({
  baseUrl: cfg.homeserver,
  userId: login.user_id,
  deviceId: login.device_id,
  accessToken: login.access_token,
  store: new MemoryStore(),
  cryptoStore: new MemoryCryptoStore(), // both this and useIndexedDB: false, or IndexedDB is opened
});
await client.initRustCrypto({ useIndexedDB: false });
client.getCrypto().setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());

let signedAt = null; // performance.now() when the Python side said the device is signed
const outcomes = new Map(); // event id → latest outcome

async function report(event) {
  if (event.getRoomId() !== cfg.room_id || !event.isEncrypted()) return;
  const failed = event.isDecryptionFailure();
  const ms = signedAt === null ? null : Math.round(performance.now() - signedAt);
  // The shield Element would show next to the message (0: none, 1: grey, 2: red; see
  // EventShieldColour/EventShieldReason in js-sdk's crypto-api).
  const info = failed ? null : await client.getCrypto().getEncryptionInfoForEvent(event);
  const outcome = {
    event_id: event.getId(),
    decrypted: !failed && !event.isBeingDecrypted(),
    failure: failed ? event.decryptionFailureReason : null,
    type: failed ? null : event.getType(),
    content: failed ? null : event.getClearContent(),
    shield: info && { colour: info.shieldColour, reason: info.shieldReason },
    ms_after_signed: ms,
  };
  outcomes.set(outcome.event_id, outcome);
  send({ event: outcome });
}
client.on(MatrixEventEvent.Decrypted, (event) => report(event));

const synced = new Promise((resolve) =>
  client.on(ClientEvent.Sync, (state) => state === "PREPARED" && resolve()),
);
await client.startClient({ initialSyncLimit: 50 });
await synced;

// The Rust crypto uploads the device keys from its request loop; the Python side can sign
// them only once /keys/query shows them.
for (;;) {
  const keys = await client.downloadKeysForUsers([login.user_id]);
  if (keys.device_keys?.[login.user_id]?.[login.device_id]) break;
  await sleep(100);
}
send({ device_id: login.device_id });

if ((await next()) !== null) {
  signedAt = performance.now();
  // Until the deadline, or until the Python side has seen enough and closes stdin.
  await Promise.race([sleep(cfg.within * 1000), next()]);
}
send({ done: [...outcomes.values()] });
client.stopClient();
process.exit(0);
