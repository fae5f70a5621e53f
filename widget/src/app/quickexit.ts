/**
 * Quick exit (SECURITY.md A.1–A.4): hide at once, end the session with a keepalive request,
 * wipe what the page holds, and leave for the neutral site without a Referer, replacing this
 * history entry. Inside the iframe the embed script leaves the top window.
 *
 * The end request must win (issue 13). The bots find the visitor's case through its token
 * (`/whoami`), close it as `quick_exit`, tell the counsellor, and deactivate and erase the
 * account — which kills the token (bots/sessions/domain.py `end`). A logout sent alongside
 * could reach Synapse first under load: the token dies before the bots' `/whoami`, and the case
 * is neither closed nor erased. So:
 *
 * - the overlay goes up and the page leaves at once, waiting for nothing: the end request is a
 *   keepalive fetch, which the browser still sends and completes after the page is gone;
 * - no separate logout when the end request succeeds: ending the session already logs out
 *   every device of the account;
 * - a logout only as a fallback, after the end request failed (an error answer or no network)
 *   or did not answer within END_WAIT_MS. That fallback is JavaScript chained on the answer, so
 *   it runs only while this document is still alive (e.g. a fast error answer before the
 *   navigation commits, or a page that could not leave); after navigation nothing chained runs,
 *   and a case whose end request never arrived is closed and erased by the bots' timeouts
 *   (SECURITY.md G.29). A keepalive logout sent up front would be the only way to outlive the
 *   page, and it is exactly the request that must not race the end request.
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
 * How long the end request may take before the fallback logout goes (if this page still runs):
 * long enough for a slow proxy or a busy bot to answer, short enough that a request that will
 * never arrive does not keep the token alive for long.
 */
export const END_WAIT_MS = 5000;

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
  if (creds) endFirst(ctx.api, creds);
  if (ctx.leaveTop(ctx.url)) {
    // If the host page did not leave, at least leave the frame.
    setTimeout(() => ctx.replace(ctx.url), 1500);
  } else {
    ctx.replace(ctx.url);
  }
}

/** The end request now; a logout only if it fails or stays unanswered (see the top of this file). */
function endFirst(api: string, creds: { homeserver: string; token: string }): void {
  let settled = false;
  const fallback = (): void => {
    if (settled) return;
    settled = true;
    logout(creds.homeserver, creds.token).catch(() => undefined);
  };
  const timer = setTimeout(fallback, END_WAIT_MS);
  endSession(api, creds.token, "quick_exit", true).then(
    (response) => {
      clearTimeout(timer);
      if (response.ok) settled = true; // the bots ended it: the account and its token are gone
      else fallback();
    },
    () => {
      clearTimeout(timer);
      fallback();
    },
  );
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
