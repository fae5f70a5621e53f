/**
 * The return code's key derivation (docs/return-code.md "The derivation"), WebCrypto only.
 *
 *   code     = the words, lower case, NFKC, joined by "-"
 *   word     = the second word, NFKC, trimmed, lower case
 *   lookup   = PBKDF2-SHA512(code,           "nl.keerpunt.return.v1.lookup", 500 000, 256 bit)
 *   master   = PBKDF2-SHA512(code ‖ 0 ‖ word, "nl.keerpunt.return.v1.master", 500 000, 512 bit)
 *   verifier = HKDF-SHA256(master, salt empty, info "verifier", 256 bit)
 *   login    = HKDF-SHA256(master, salt empty, info "login",    256 bit)
 *   ssss     = HKDF-SHA256(master, salt part,  info "ssss",     256 bit)   (never leaves the browser)
 *
 * `part` is the bots' part of the secret-storage key: 32 bytes they answer to /sessions/code and
 * to a right /sessions/return (an HMAC under their own key), so that testing a second word needs
 * the bots, which count wrong words. A code made before the bots took part has none (`null`:
 * the salt is empty, as it was then). The two PBKDF2 runs are independent and run at once.
 * lookup, verifier, login and the part travel as base64url without padding (43 characters).
 */

export const ITERATIONS = 500_000;
const LOOKUP_SALT = "nl.keerpunt.return.v1.lookup";
const MASTER_SALT = "nl.keerpunt.return.v1.master";

export interface Derived {
  /** What `/sessions/code` and `/sessions/return` get (base64url). */
  lookup: string;
  verifier: string;
  /** The account's password (base64url); only `/sessions/code` and Synapse's login see it. */
  login: string;
  /**
   * The secret-storage (4S) key with the bots' part (null: a code made before they took part):
   * 32 bytes that no server ever sees. The master behind it stays in a key WebCrypto will not
   * export.
   */
  storageKey(part: Uint8Array | null): Promise<Uint8Array>;
}

const utf8 = new TextEncoder();

/** The code in its one form: its words, lower case, NFKC, joined by "-". */
export function canonicalCode(words: readonly string[]): string {
  return words.map((w) => w.normalize("NFKC").toLowerCase()).join("-");
}

/** The second word as the derivation takes it: NFKC, trimmed, lower case. */
export function canonicalWord(word: string): string {
  return word.normalize("NFKC").trim().toLowerCase();
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** 32 bytes from their base64url form (43 characters), or null for anything else. */
export function fromBase64url(value: unknown): Uint8Array | null {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "=");
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pbkdf2(secret: Uint8Array, salt: string, bits: number, iterations: number): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", secret as BufferSource, "PBKDF2", false, ["deriveBits"]);
  return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-512", salt: utf8.encode(salt), iterations }, key, bits);
}

async function hkdf(master: CryptoKey, info: string, salt: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: salt as BufferSource, info: utf8.encode(info) },
    master,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * Derive everything from a code (its words) and the second word. `iterations` is for unit tests
 * only; the contract with the bots is 500 000.
 */
export async function derive(words: readonly string[], word: string, iterations = ITERATIONS): Promise<Derived> {
  const code = utf8.encode(canonicalCode(words));
  const second = utf8.encode(canonicalWord(word));
  const joined = new Uint8Array(code.length + 1 + second.length);
  joined.set(code, 0);
  joined.set(second, code.length + 1); // the byte between stays 0
  const [lookup, masterBits] = await Promise.all([
    pbkdf2(code, LOOKUP_SALT, 256, iterations),
    pbkdf2(joined, MASTER_SALT, 512, iterations),
  ]);
  joined.fill(0);
  second.fill(0);
  const master = await crypto.subtle.importKey("raw", masterBits, "HKDF", false, ["deriveBits"]);
  new Uint8Array(masterBits).fill(0);
  const [verifier, login] = await Promise.all([hkdf(master, "verifier"), hkdf(master, "login")]);
  return {
    lookup: base64url(new Uint8Array(lookup)),
    verifier: base64url(verifier),
    login: base64url(login),
    storageKey: (part) => hkdf(master, "ssss", part ?? undefined),
  };
}
