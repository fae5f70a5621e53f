/**
 * Outreach links carry a code (and a campaign): read them once, and drop them from the address
 * bar and the history entry so they are not left behind (SECURITY.md A).
 */
import type { Language } from "./i18n";
import type { StartRequest } from "./api";

export interface Outreach {
  invite: string | null;
  campaign: string | null;
}

/** The outreach parameters of `location`; `replace` gets the address without them (only if it had any). */
export function takeOutreach(
  location: Pick<Location, "search" | "pathname">,
  replace: (url: string) => void,
): Outreach {
  const params = new URLSearchParams(location.search);
  const outreach = { invite: params.get("invite"), campaign: params.get("campaign") };
  if (outreach.invite || outreach.campaign) {
    params.delete("invite");
    params.delete("campaign");
    replace(`${location.pathname}${params.size ? `?${params}` : ""}`);
  }
  return outreach;
}

/** The session API request for this visitor (DESIGN.md "The visitor session"). */
export function startRequest(language: Language, outreach: Outreach): StartRequest {
  const request: StartRequest = { language, entry: outreach.invite ? "outreach" : "widget" };
  if (outreach.invite) request.invite = outreach.invite.slice(0, 128);
  if (outreach.campaign) request.campaign = outreach.campaign.slice(0, 64);
  return request;
}
