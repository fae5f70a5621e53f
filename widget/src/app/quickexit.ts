/**
 * Quick exit (SECURITY.md A.1–A.4): hide at once, end and log out with keepalive requests,
 * wipe what the page holds, and leave for the neutral site without a Referer, replacing this
 * history entry. Inside the iframe the embed script leaves the top window.
 */
import { endSession, logout } from "./api";

export interface ExitContext {
  url: string;
  api: string;
  /** Shows the overlay; must be synchronous. */
  cover(): void;
  credentials(): { homeserver: string; token: string } | null;
  /** Stops the Matrix client and drops the conversation from memory and the DOM. */
  wipe(): void;
  /** Asks the embedding page to leave; false when not embedded. */
  leaveTop(url: string): boolean;
  /** Navigation, injectable for tests. */
  replace(url: string): void;
}

let exiting = false;

export function isExiting(): boolean {
  return exiting;
}

export function quickExit(ctx: ExitContext): void {
  if (exiting) return;
  exiting = true;
  ctx.cover();
  const creds = ctx.credentials();
  if (creds) {
    // End first (the bots close the case and tell the counsellor), then log the device out.
    endSession(ctx.api, creds.token, "quick_exit", true).catch(() => undefined);
    logout(creds.homeserver, creds.token).catch(() => undefined);
  }
  try {
    ctx.wipe();
  } finally {
    wipeStorage();
    const embedded = ctx.leaveTop(ctx.url);
    if (embedded) {
      // If the host page did not leave, at least leave the frame.
      setTimeout(() => ctx.replace(ctx.url), 1500);
    } else {
      ctx.replace(ctx.url);
    }
  }
}

/** Storage the widget never writes to, cleared anyway in case anything did. */
export function wipeStorage(): void {
  try {
    sessionStorage.clear();
  } catch {
    /* storage may be blocked */
  }
  try {
    localStorage.clear();
  } catch {
    /* storage may be blocked */
  }
  try {
    if ("caches" in globalThis) {
      void caches
        .keys()
        .then((keys) => Promise.all(keys.map((k) => caches.delete(k))))
        .catch(() => undefined);
    }
  } catch {
    /* not available */
  }
  try {
    if ("indexedDB" in globalThis && typeof indexedDB.databases === "function") {
      void indexedDB
        .databases()
        .then((dbs) => dbs.forEach((db) => db.name && indexedDB.deleteDatabase(db.name)))
        .catch(() => undefined);
    }
  } catch {
    /* not available */
  }
}
