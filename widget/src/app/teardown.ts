/**
 * How the ways a conversation ends differ. All of them go through ChatApp.teardown(reason),
 * which always aborts a start still under way, stops the session and drops the credentials,
 * the conversations, the typing state and the chat screen's lines; this table says what else
 * happens. An aborted start shows nothing more, stops a session that opens anyway, and sends
 * the end request (`quick_exit`, keepalive) for an account that only arrived after the teardown.
 *
 * - `quick-exit`: Snel weg / Shift three times. quickexit.ts covers the page first, then calls
 *   this, sends the end request itself (a logout only if that fails) and leaves at once without
 *   a Referer.
 * - `page-hidden`: the page goes away (tab closed, host page navigated, the portal's own quick
 *   exit removed the frame). Only the end request (keepalive): a logout sent at the same moment
 *   could beat it and leave the bots unable to find the case; ending revokes the token anyway.
 * - `not-started`: the chat could not start (closed, the wrong homeserver, the SDK did not load,
 *   or the session failed half-way): leave no account behind, so "Try again" makes only one.
 * - `ended`: the visitor ended it (the end request was answered) or the other side did.
 */
export type TeardownReason = "quick-exit" | "page-hidden" | "not-started" | "ended";

export interface TeardownPlan {
  /** The end request (keepalive, not awaited) sent now, with this reason; null: none from here. */
  endRequest: "ended" | "quick_exit" | null;
  /** Empty the app's DOM as well: nothing may stay on the page. */
  emptyPage: boolean;
  /** Then show the "chat ended" screen. */
  showEnded: boolean;
}

export const TEARDOWN: Readonly<Record<TeardownReason, TeardownPlan>> = {
  "quick-exit": { endRequest: null, emptyPage: true, showEnded: false },
  "page-hidden": { endRequest: "quick_exit", emptyPage: false, showEnded: false },
  "not-started": { endRequest: "ended", emptyPage: false, showEnded: false },
  ended: { endRequest: null, emptyPage: false, showEnded: true },
};

