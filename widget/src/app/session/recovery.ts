/**
 * History that survives the device (docs/return-code.md, ../shared/notes/return-code.md):
 * secret storage (4S) under the key derived from the return code, the cross-signing keys and the
 * key backup's key in it, a server-side key backup, and a dehydrated device (MSC3814) that
 * receives what the counsellor writes while the visitor is away.
 *
 * Everything stays in memory: the 4S key lives in a SecretKey holder that the session drops on
 * stop(). Never `setupNewCrossSigning` or `resetEncryption()` on a return: that would be a new
 * identity, and every peer would warn about it. A return whose 4S cannot be read fails instead.
 */
import { Method, type MatrixClient } from "matrix-js-sdk";
import { CryptoEvent, type CryptoApi, type CryptoCallbacks } from "matrix-js-sdk/lib/crypto-api/index.js";
import { RustBackupManager } from "matrix-js-sdk/lib/rust-crypto/backup.js";
import { sleep } from "./wait";

/** The 4S key of this session, if it has one; read by js-sdk through cryptoCallbacks(). */
export class SecretKey {
  key: Uint8Array | null = null;
  keyId: string | null = null;

  set(key: Uint8Array): void {
    this.clear();
    this.key = key;
  }

  clear(): void {
    this.key?.fill(0);
    this.key = null;
    this.keyId = null;
  }
}

export function cryptoCallbacks(secret: SecretKey): CryptoCallbacks {
  return {
    getSecretStorageKey: async ({ keys }) => {
      if (!secret.key) return null;
      const ids = Object.keys(keys);
      const id = secret.keyId && ids.includes(secret.keyId) ? secret.keyId : ids[0];
      // A copy: js-sdk may zero what it gets, and the holder still needs the key.
      return id ? [id, secret.key.slice()] : null;
    },
    cacheSecretStorageKey: (keyId) => {
      secret.keyId = keyId;
    },
  };
}

/**
 * js-sdk starts each key-backup upload after a random 0–10 s delay, so that many devices of one
 * user do not upload at once. A visitor has one device, and a chat ended with a code waits for
 * the upload (settle()): start it within a second. Best effort on an SDK internal; settle()
 * checks the server's backup itself, so this only makes the wait shorter.
 */
export function quickBackups(): void {
  try {
    Object.defineProperty(RustBackupManager, "maxBackupLoopStartDelayMillis", { value: 1000 });
  } catch {
    /* the SDK changed: the wait is longer, nothing else */
  }
}

type Recovery = Pick<
  CryptoApi,
  | "bootstrapSecretStorage"
  | "getActiveSessionBackupVersion"
  | "getSessionBackupPrivateKey"
  | "startDehydration"
  | "exportRoomKeys"
  | "userHasCrossSigningKeys"
  | "bootstrapCrossSigning"
  | "loadSessionBackupPrivateKeyFromSecretStorage"
  | "checkKeyBackupAndEnable"
  | "restoreKeyBackup"
>;

/**
 * Put this session's secrets under `key` (a new code, or a rotation on return): a new default
 * 4S key holding the cross-signing keys and the backup key, a key backup (made when there is
 * none yet, or when the earlier one was not loaded: "return without history"), and a new
 * dehydration key with a new dehydrated device. What an earlier 4S key could open is rewritten
 * under the new one, so an earlier code opens nothing any more.
 */
export async function protect(crypto: Recovery, secret: SecretKey, key: Uint8Array): Promise<void> {
  secret.set(key.slice());
  // Not "is a backup active": a backup signed by the visitor's identity is trusted and used for
  // uploads even when this device never loaded its key ("return without history"). Only a
  // backup whose key this device holds is kept; any other is replaced (and deleted).
  const backupKey = await crypto.getSessionBackupPrivateKey();
  await crypto.bootstrapSecretStorage({
    createSecretStorageKey: async () => ({ privateKey: key.slice() }),
    setupNewSecretStorage: true,
    setupNewKeyBackup: backupKey === null,
  });
  backupKey?.fill(0);
  await crypto.startDehydration({ createNewKey: true, rehydrate: false });
}

interface BackedUp {
  rooms?: Record<string, { sessions?: Record<string, unknown> }>;
}

/**
 * Resolves true once the server's key backup holds every room key this device has (so the
 * history is readable after the device is gone); false when there is no backup or `limitMs`
 * passed first.
 */
export async function settle(
  client: Pick<MatrixClient, "http">,
  crypto: Pick<CryptoApi, "getActiveSessionBackupVersion" | "exportRoomKeys">,
  limitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const version = await crypto.getActiveSessionBackupVersion();
    if (version !== null) {
      const known = await crypto.exportRoomKeys();
      const backed = await client.http
        .authedRequest<BackedUp>(Method.Get, "/room_keys/keys", { version })
        .catch((): BackedUp => ({}));
      if (known.every((k) => backed.rooms?.[k.room_id]?.sessions?.[k.session_id] !== undefined)) return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(300);
  }
}

/** Resolves once the server has this device's keys (a signature for it is refused before). */
export async function deviceKeysUploaded(
  client: Pick<MatrixClient, "downloadKeysForUsers">,
  me: { user: string; device: string },
  limitMs: number,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const found = await client.downloadKeysForUsers([me.user]).catch(() => null);
    if (found?.device_keys?.[me.user]?.[me.device]) return;
    if (Date.now() > deadline) throw new Error("the device keys were not uploaded");
    await sleep(100);
  }
}

/**
 * The returning device takes up the visitor's identity: cross-signing keys from 4S, its own
 * device signed with them. With `history`, also the backup key (trusted), the dehydrated device's
 * keys (what was written while away) and the whole backup. Throws, changing nothing, when the
 * account has no identity or 4S cannot be opened with this key.
 */
export async function takeUp(
  client: Pick<MatrixClient, "secretStorage" | "on" | "off">,
  crypto: Recovery,
  me: string,
  history: boolean,
): Promise<void> {
  if (!(await crypto.userHasCrossSigningKeys(me, true))) throw new Error("the account has no identity");
  // bootstrapCrossSigning makes new keys when 4S lacks them: check first, never reset an identity.
  const names = ["m.cross_signing.master", "m.cross_signing.self_signing", "m.cross_signing.user_signing"];
  const found = await Promise.all(names.map((name) => client.secretStorage.get(name)));
  if (!found.every((value) => typeof value === "string" && value.length > 0)) throw new Error("no identity in 4S");
  await crypto.bootstrapCrossSigning({});
  if (!history) return;
  await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
  await crypto.checkKeyBackupAndEnable();
  // js-sdk swallows a failed rehydration (it then just makes a new dehydrated device): say so.
  let rehydrated = false;
  const done = (): void => void (rehydrated = true);
  const failed = (message: string): void => console.warn("keerpunt: rehydration failed:", message);
  client.on(CryptoEvent.RehydrationCompleted, done);
  client.on(CryptoEvent.RehydrationError, failed);
  try {
    await crypto.startDehydration({ rehydrate: true });
  } finally {
    client.off(CryptoEvent.RehydrationCompleted, done);
    client.off(CryptoEvent.RehydrationError, failed);
  }
  if (!rehydrated) console.warn("keerpunt: no dehydrated device was rehydrated");
  await crypto.restoreKeyBackup();
}
