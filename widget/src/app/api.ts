/** The visitor-session API (DESIGN.md "The visitor session (contract)"), JSON without cookies. */

import type { Language } from "./i18n";
import { fromBase64url } from "./returncode/derive";

export interface SessionInfo {
  homeserver: string;
  user_id: string;
  access_token: string;
  device_id: string;
  room_id: string;
  bot: string;
  case: string;
  /** Started while the chat is closed, to leave a message (docs/write-later.md). */
  later?: boolean;
}

export type StartResult =
  | { kind: "started"; session: SessionInfo }
  | { kind: "closed"; opensAt: string | null; session: SessionInfo | null; later: boolean }
  | { kind: "busy"; retryAfter: number | null }
  | { kind: "failed" };

/** A start's answer, or "proof": the proof of work was missing or refused (challenge/proof.ts). */
export type StartAnswer = StartResult | { kind: "proof" };

export interface StartRequest {
  language: Language;
  entry: "widget" | "outreach";
  invite?: string;
  campaign?: string;
  /** The proof of work's answer (challenge/proof.ts). */
  challenge?: string;
  later?: boolean;
}

function text(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length < 4096;
}

export function parseSession(data: unknown): SessionInfo | null {
  if (typeof data !== "object" || data === null) return null;
  const d = data as Record<string, unknown>;
  const keys = ["homeserver", "user_id", "access_token", "device_id", "room_id", "bot"] as const;
  if (!keys.every((k) => text(d[k]))) return null;
  if (!/^https?:\/\//.test(d.homeserver as string)) return null;
  return {
    homeserver: (d.homeserver as string).replace(/\/+$/, ""),
    user_id: d.user_id as string,
    access_token: d.access_token as string,
    device_id: d.device_id as string,
    room_id: d.room_id as string,
    bot: d.bot as string,
    case: typeof d.case === "string" || typeof d.case === "number" ? String(d.case) : "",
    ...(d.later === true ? { later: true } : {}),
  };
}

export async function startSession(api: string, request: StartRequest): Promise<StartAnswer> {
  let response: Response;
  try {
    response = await fetch(`${api}/sessions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    return { kind: "failed" };
  }
  if (response.status === 429) {
    const retry = Number(response.headers.get("Retry-After"));
    return { kind: "busy", retryAfter: Number.isFinite(retry) ? retry : null };
  }
  let data: unknown = null;
  try {
    data = await response.json();
  } catch {
    return { kind: "failed" };
  }
  const d = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (response.status === 403 && typeof d.error === "string" && d.error.startsWith("challenge_")) return { kind: "proof" };
  if (d.open === false) {
    const opensAt = typeof d.opens_at === "string" ? d.opens_at : null;
    return { kind: "closed", opensAt, session: response.ok ? parseSession(data) : null, later: d.later === true };
  }
  if (!response.ok) return { kind: "failed" };
  const session = parseSession(data);
  return session ? { kind: "started", session } : { kind: "failed" };
}

/** End the session (the bots close the case and erase the account). `keepalive` survives leaving. */
export function endSession(api: string, token: string, reason: string, keepalive: boolean): Promise<Response> {
  return fetch(`${api}/sessions/end`, {
    method: "POST",
    keepalive,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ reason }),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
}

/** The visitor ended the chat: the bots close the case; if that fails, at least the token dies. */
export async function endOrLogout(api: string, creds: SessionInfo, reason = "ended"): Promise<void> {
  try {
    const response = await endSession(api, creds.access_token, reason, false);
    if (!response.ok) throw new Error(String(response.status));
  } catch {
    await logout(creds.homeserver, creds.access_token).catch(() => undefined);
  }
}

/**
 * The visitor's verdict after the chat: the answers (question id → answer id; none: skipped) with
 * the one-time ticket the chat was given. No token: the bots never learn which chat it was.
 */
export async function sendFeedback(api: string, ticket: string, answers: Record<string, string>): Promise<boolean> {
  try {
    const response = await fetch(`${api}/feedback`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ticket, answers }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    return response.status === 204;
  } catch {
    return false;
  }
}

/** Log the Matrix device out (keepalive: it is sent even while the page goes away). */
export function logout(homeserver: string, token: string): Promise<Response> {
  return fetch(`${homeserver}/_matrix/client/v3/logout`, {
    method: "POST",
    keepalive: true,
    headers: { Authorization: `Bearer ${token}` },
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
}

// --- the return code (docs/return-code.md "The API") -------------------------------------------

/**
 * Register (or replace) the open case's return code: the bots' part of its secret-storage key
 * (32 bytes), or null when the request failed or was refused.
 */
export async function registerCode(
  api: string,
  token: string,
  values: { lookup: string; verifier: string; login: string },
): Promise<Uint8Array | null> {
  try {
    const response = await fetch(`${api}/sessions/code`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(values),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    if (response.status !== 200) return null;
    return fromBase64url(((await response.json()) as Record<string, unknown>).key);
  } catch {
    return null;
  }
}

/**
 * What a return answers: the case to log in to, or why not (every refusal alike: "refused").
 * `key`: the bots' part of the secret-storage key; null for a code made before they took part.
 */
export type ReturnResult =
  | {
      kind: "back";
      homeserver: string;
      user_id: string;
      room_id: string;
      bot: string;
      case: string;
      days: number;
      key: Uint8Array | null;
    }
  | { kind: "refused" }
  | { kind: "busy" }
  | { kind: "failed" };

export async function returnWithCode(api: string, values: { lookup: string; verifier: string }): Promise<ReturnResult> {
  let response: Response;
  try {
    response = await fetch(`${api}/sessions/return`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(values),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    return { kind: "failed" };
  }
  if (response.status === 429) return { kind: "busy" };
  // 403 unknown_code, and also 404 (return codes switched off since the code was made).
  if (response.status === 403 || response.status === 404) return { kind: "refused" };
  if (!response.ok) return { kind: "failed" };
  try {
    const d = (await response.json()) as Record<string, unknown>;
    const keys = ["homeserver", "user_id", "room_id", "bot"] as const;
    if (!keys.every((k) => text(d[k])) || !/^https?:\/\//.test(d.homeserver as string)) return { kind: "failed" };
    return {
      kind: "back",
      homeserver: (d.homeserver as string).replace(/\/+$/, ""),
      user_id: d.user_id as string,
      room_id: d.room_id as string,
      bot: d.bot as string,
      case: typeof d.case === "string" || typeof d.case === "number" ? String(d.case) : "",
      days: typeof d.days === "number" ? d.days : 0,
      key: fromBase64url(d.key),
    };
  } catch {
    return { kind: "failed" };
  }
}

/** A login's outcome: the new device, Synapse's limit (with its wait, if given), or a failure. */
export type LoginResult =
  | { kind: "in"; access_token: string; device_id: string }
  | { kind: "busy"; retryAfterMs: number | null }
  | { kind: "failed" };

/**
 * Log in to Synapse with the code's login secret (m.login.password). The widget does this
 * itself, so Synapse's login limiter counts the visitor's address, not the bots'.
 */
export async function passwordLogin(
  homeserver: string,
  user: string,
  password: string,
  deviceName: string,
): Promise<LoginResult> {
  try {
    const response = await fetch(`${homeserver}/_matrix/client/v3/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        type: "m.login.password",
        identifier: { type: "m.id.user", user },
        password,
        initial_device_display_name: deviceName,
      }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    const d = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 429) {
      const wait = d.retry_after_ms;
      return { kind: "busy", retryAfterMs: typeof wait === "number" && Number.isFinite(wait) ? wait : null };
    }
    if (!response.ok || !text(d.access_token) || !text(d.device_id)) return { kind: "failed" };
    return { kind: "in", access_token: d.access_token as string, device_id: d.device_id as string };
  } catch {
    return { kind: "failed" };
  }
}
