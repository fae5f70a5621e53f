/** The visitor-session API (DESIGN.md "The visitor session (contract)"), JSON without cookies. */

export interface SessionInfo {
  homeserver: string;
  user_id: string;
  access_token: string;
  device_id: string;
  room_id: string;
  bot: string;
  case: string;
}

export type StartResult =
  | { kind: "started"; session: SessionInfo }
  | { kind: "closed"; opensAt: string | null; session: SessionInfo | null }
  | { kind: "busy"; retryAfter: number | null }
  | { kind: "failed" };

export interface StartRequest {
  language: "nl" | "en";
  entry: "widget" | "outreach";
  invite?: string;
  campaign?: string;
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
  };
}

export async function startSession(api: string, request: StartRequest): Promise<StartResult> {
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
  if (d.open === false) {
    const opensAt = typeof d.opens_at === "string" ? d.opens_at : null;
    return { kind: "closed", opensAt, session: response.ok ? parseSession(data) : null };
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
