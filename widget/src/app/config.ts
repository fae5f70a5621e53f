/**
 * The page's configuration, written by the portal into
 * `<script type="application/json" id="keerpunt-config">` (a data block, never executed).
 */
import { isLanguage, type Language } from "./i18n";
import { httpUrl, originOf } from "../shared/protocol";

export interface WidgetConfig {
  language: Language;
  api: string;
  homeserver: string;
  quickExitUrl: string;
  portalUrl: string;
  hours: Partial<Record<Language, string>>;
  /** From the configured opening hours when the page was made (the session API has the last word). */
  openNow: boolean;
  opensAt: string | null;
  /** The embedding page's origin, only when the portal checked it against the allowlist. */
  host: string | null;
  /**
   * The chat sits inline in the portal's own page, whose header has the language switch and
   * "Snel weg": the chat shows no header of its own (one of each on the page, issue 29).
   */
  pageHeader: boolean;
  /** Return codes (docs/return-code.md), only when the bots offer them: how long a code works after the chat, and how many wrong words erase it. */
  returnCode: { days: number; tries: number } | null;
  /** Write now, answered later (docs/write-later.md), only with return codes: when a live chat offers it, and the hours to an answer after the opening. */
  later: { afterMinutes: number; answerHours: number } | null;
}

function positive(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 && value < 1000 ? value : null;
}

export function readConfig(doc: Document): WidgetConfig {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(doc.getElementById("keerpunt-config")?.textContent ?? "{}");
    if (typeof parsed === "object" && parsed !== null) raw = parsed as Record<string, unknown>;
  } catch {
    raw = {};
  }
  const hours: Partial<Record<Language, string>> = {};
  if (typeof raw.hours === "object" && raw.hours !== null) {
    for (const [lang, text] of Object.entries(raw.hours as Record<string, unknown>)) {
      if (isLanguage(lang) && typeof text === "string") hours[lang] = text;
    }
  }
  return {
    language: isLanguage(raw.language) ? raw.language : "nl",
    api: typeof raw.api === "string" && raw.api.startsWith("/") ? raw.api.replace(/\/+$/, "") : "/api/v1",
    homeserver: httpUrl(raw.homeserver)?.replace(/\/+$/, "") ?? "",
    // Without a configured neutral site, leave to a blank page rather than stay.
    quickExitUrl: httpUrl(raw.quick_exit_url) ?? "about:blank",
    portalUrl: typeof raw.portal_url === "string" && raw.portal_url.startsWith("/") ? raw.portal_url : "/",
    hours,
    openNow: raw.open_now !== false,
    opensAt: typeof raw.opens_at === "string" ? raw.opens_at : null,
    host: typeof raw.host === "string" ? originOf(raw.host) : null,
    pageHeader: raw.page_header === true,
    returnCode: readReturnCode(raw),
    later: readLater(raw),
  };
}

/** Write-later's numbers; null (nothing offered, nothing said) without return codes or without them. */
function readLater(raw: Record<string, unknown>): WidgetConfig["later"] {
  const after = typeof raw.later_after_minutes === "number" && raw.later_after_minutes > 0 ? raw.later_after_minutes : null;
  const hours = positive(raw.later_answer_hours);
  return readReturnCode(raw) && after !== null && hours !== null ? { afterMinutes: after, answerHours: hours } : null;
}

/** `return_code: true` with its limits; anything else: the widget offers no code at all. */
function readReturnCode(raw: Record<string, unknown>): WidgetConfig["returnCode"] {
  const days = positive(raw.return_code_days);
  const tries = positive(raw.return_code_tries);
  return raw.return_code === true && days !== null && tries !== null ? { days, tries } : null;
}
