/**
 * Outreach links carry a code (and campaign pages a campaign): read them once, and drop them from
 * the address bar and the history entry at once so nothing is left behind on the phone
 * (SECURITY.md A).
 *
 * The code travels only in the URL fragment (`#invite=…`): a fragment never reaches a server,
 * so no access log anywhere holds it. A code in the query string did reach a server; it is not
 * used (whoever made that link made a mistake we must not reward), but it is still removed.
 */
import type { Language } from "./i18n";
import type { StartRequest } from "./api";

export interface Outreach {
  invite: string | null;
  campaign: string | null;
}

/** Longest code the start request carries (the API's codes are 12 characters plus dashes). */
const MAX_INVITE = 128;
const MAX_CAMPAIGN = 64;

/**
 * The `invite` of a URL fragment (`#invite=CODE`, perhaps among other `&`-separated parameters),
 * and the fragment without it ("" when nothing else was in it).
 */
export function splitFragment(hash: string): { invite: string | null; rest: string } {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!/(^|&)invite=/.test(raw)) return { invite: null, rest: hash };
  const invite = new URLSearchParams(raw).get("invite");
  // Keep whatever else the fragment held exactly as it was (a page anchor, say).
  const others = raw.split("&").filter((part) => part && !part.startsWith("invite="));
  return { invite: invite?.trim() || null, rest: others.length ? `#${others.join("&")}` : "" };
}

/**
 * The outreach parameters of `location`; `replace` gets the address without them (only if it had
 * any): the code from the fragment, the campaign from the query string.
 */
export function takeOutreach(
  location: Pick<Location, "search" | "pathname" | "hash">,
  replace: (url: string) => void,
): Outreach {
  const params = new URLSearchParams(location.search);
  const fragment = splitFragment(location.hash);
  const outreach = { invite: fragment.invite, campaign: params.get("campaign") || null };
  if (params.has("invite") || params.has("campaign") || fragment.rest !== location.hash) {
    params.delete("invite");
    params.delete("campaign");
    replace(`${location.pathname}${params.size ? `?${params}` : ""}${fragment.rest}`);
  }
  return outreach;
}

/**
 * The outreach code's shape (the bots' contract): 12 characters from an alphabet without look-alikes,
 * shown as `XXXX-XXXX-XXXX`. Keep in step with the bots' invite codes.
 */
const CODE = /^[34679ACDEFGHJKMNPQRTWXY]{12}$/;

/**
 * A code as typed or linked, in its one canonical form, or null when it cannot be a code at all.
 * Case, spaces and dashes do not matter (read aloud, a code gets typed every which way). Something
 * that cannot be a code is left out of the start request, so the API never refuses it as bad
 * input: valid, unknown or mistyped, the visitor gets the same plain start.
 */
export function normaliseCode(value: string | null): string | null {
  const bare = (value ?? "").replace(/[\s\-‐‑–—]/g, "").toUpperCase();
  if (!CODE.test(bare)) return null;
  return `${bare.slice(0, 4)}-${bare.slice(4, 8)}-${bare.slice(8)}`;
}

/** A code typed by hand ("I have a code"): spaces around it go; empty is no code. */
export function typedCode(value: string): string | null {
  return value.trim().slice(0, MAX_INVITE) || null;
}

/**
 * The session API request for this visitor (DESIGN.md "The visitor session"). A code typed on
 * the start screen wins over one from the link. Whether a code exists is for the API alone to
 * know: the widget sends any code of the right shape and behaves the same whatever the answer.
 */
export function startRequest(language: Language, outreach: Outreach, typed: string | null = null, later = false): StartRequest {
  const invite = normaliseCode(typed ?? outreach.invite);
  const request: StartRequest = { language, entry: invite ? "outreach" : "widget" };
  if (later) request.later = true; // to leave a message while the chat is closed (docs/write-later.md)
  if (invite) request.invite = invite;
  if (outreach.campaign) request.campaign = outreach.campaign.slice(0, MAX_CAMPAIGN);
  return request;
}
