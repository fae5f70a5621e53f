/** When a closed chat opens again, as the visitor reads it (Dutch or English, Amsterdam time). */
import type { Language } from "./i18n";

export function formatOpening(iso: string | null, language: Language): string | null {
  if (!iso) return null;
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return null;
  return new Intl.DateTimeFormat(language === "nl" ? "nl-NL" : "en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Europe/Amsterdam",
  }).format(when);
}
