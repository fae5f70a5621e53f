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

/**
 * The bots find the visitor's case through its token (`/whoami`), so the end request must reach
 * them before the logout kills the token. We wait for its answer (the page is already covered and
 * emptied) but never longer than this; by then the bots have long done their `/whoami`.
 */
export const END_WAIT_MS = 400;

export function isExiting(): boolean {
  return exiting;
}

export function quickExit(ctx: ExitContext): void {
  if (exiting) return;
  exiting = true;
  ctx.cover();
  const creds = ctx.credentials();
  try {
    ctx.wipe();
  } catch {
    /* never let a failing wipe stop the exit */
  }
  wipeStorage();
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    if (creds) logout(creds.homeserver, creds.token).catch(() => undefined);
    if (ctx.leaveTop(ctx.url)) {
      // If the host page did not leave, at least leave the frame.
      setTimeout(() => ctx.replace(ctx.url), 1500);
    } else {
      ctx.replace(ctx.url);
    }
  };
  if (!creds) {
    leave();
    return;
  }
  endSession(ctx.api, creds.token, "quick_exit", true)
    .catch(() => undefined)
    .finally(leave);
  setTimeout(leave, END_WAIT_MS);
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
