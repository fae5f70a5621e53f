/**
 * Write now, answered later (docs/write-later.md): when the widget says an answer can be
 * expected. The promise is the next opening (or the moment the visitor leaves, when the chat is
 * open) plus `async.answer_within_hours`, in the visitor's own words and Amsterdam time.
 */
import { formatOpening } from "../hours";
import type { Language } from "../i18n";

const HOUR_MS = 3_600_000;

/** `from` (ms since the epoch) plus `hours`, as the visitor reads it; null when unknown. */
export function answerBy(from: number | null, hours: number, language: Language): string | null {
  if (from === null || !Number.isFinite(from)) return null;
  return formatOpening(new Date(from + hours * HOUR_MS).toISOString(), language);
}

/** The next opening from an ISO time, or null. */
export function openingMs(iso: string | null): number | null {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? null : ms;
}
