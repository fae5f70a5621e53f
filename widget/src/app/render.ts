/**
 * Message text becomes DOM through text nodes only. http(s) URLs become links with
 * rel="noopener noreferrer"; every other scheme (javascript:, data:, …) stays plain text.
 * `formatted_body` is never read: nothing from the server is ever parsed as HTML.
 */

export const MAX_BODY = 20000;
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"»”’]+$/;

export type Piece = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

/** Split plain text into text and safe-link pieces. */
export function linkify(body: string): Piece[] {
  const text = body.length > MAX_BODY ? body.slice(0, MAX_BODY) + "…" : body;
  const pieces: Piece[] = [];
  let at = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    const trail = TRAILING.exec(raw);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const start = match.index ?? 0;
    const href = safeHref(raw);
    if (!href) continue;
    if (start > at) pieces.push({ kind: "text", text: text.slice(at, start) });
    pieces.push({ kind: "link", text: raw, href });
    at = start + raw.length;
  }
  if (at < text.length) pieces.push({ kind: "text", text: text.slice(at) });
  return pieces;
}

export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if (url.username || url.password) return null;
    return url.href;
  } catch {
    return null;
  }
}

/** Append `body` to `parent` as text and safe links. */
export function renderBody(doc: Document, parent: HTMLElement, body: unknown): void {
  if (typeof body !== "string") return;
  for (const piece of linkify(body)) {
    if (piece.kind === "text") {
      parent.appendChild(doc.createTextNode(piece.text));
    } else {
      const a = doc.createElement("a");
      a.href = piece.href;
      a.textContent = piece.text;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.referrerPolicy = "no-referrer";
      parent.appendChild(a);
    }
  }
}

/** A display name shown as text: control characters dropped, length capped. */
export function displayName(raw: unknown, fallback: string): string {
  if (typeof raw !== "string") return fallback;
  // eslint-disable-next-line no-control-regex
  const cleaned = raw.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, "").trim();
  if (!cleaned || cleaned.startsWith("@")) return fallback;
  return cleaned.length > 40 ? cleaned.slice(0, 40) + "…" : cleaned;
}
