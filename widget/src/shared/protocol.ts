/**
 * The postMessage protocol between the embed script (on the host page) and the chat app (in the
 * iframe on the Keerpunt origin). A closed set of actions; anything else is ignored. Senders always
 * name the target origin; receivers check the sender's origin and window before looking at data.
 */

export const PROTOCOL = "keerpunt-widget/1";

/** Chat app → embed script. */
export type AppToHost =
  | { protocol: typeof PROTOCOL; action: "quick-exit"; url: string }
  | { protocol: typeof PROTOCOL; action: "minimise" }
  | { protocol: typeof PROTOCOL; action: "ready" };

/** Embed script → chat app. */
export type HostToApp = { protocol: typeof PROTOCOL; action: "focus" };

const APP_TO_HOST = new Set(["quick-exit", "minimise", "ready"]);
const HOST_TO_APP = new Set(["focus"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A safe absolute http(s) URL, or null. */
export function httpUrl(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 2048) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * The message if it came from `expectedOrigin` and `expectedSource` and is a known action from the
 * chat app; otherwise null.
 */
export function parseAppMessage(
  event: Pick<MessageEvent, "origin" | "source" | "data">,
  expectedOrigin: string,
  expectedSource: unknown,
): AppToHost | null {
  if (event.origin !== expectedOrigin || expectedSource == null || event.source !== expectedSource) return null;
  const data = event.data;
  if (!isRecord(data) || data.protocol !== PROTOCOL || typeof data.action !== "string") return null;
  if (!APP_TO_HOST.has(data.action)) return null;
  if (data.action === "quick-exit") {
    const url = httpUrl(data.url);
    return url ? { protocol: PROTOCOL, action: "quick-exit", url } : null;
  }
  return { protocol: PROTOCOL, action: data.action as "minimise" | "ready" };
}

/** The message if it came from the embedding host page; otherwise null. */
export function parseHostMessage(
  event: Pick<MessageEvent, "origin" | "source" | "data">,
  expectedOrigin: string | null,
  expectedSource: unknown,
): HostToApp | null {
  if (!expectedOrigin || event.origin !== expectedOrigin || expectedSource == null) return null;
  if (event.source !== expectedSource) return null;
  const data = event.data;
  if (!isRecord(data) || data.protocol !== PROTOCOL || typeof data.action !== "string") return null;
  if (!HOST_TO_APP.has(data.action)) return null;
  return { protocol: PROTOCOL, action: "focus" };
}

/** The origin of an http(s) URL, or null. */
export function originOf(value: string | null | undefined): string | null {
  const url = httpUrl(value);
  return url ? new URL(url).origin : null;
}
