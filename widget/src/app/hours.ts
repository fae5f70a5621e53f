/** When a closed chat opens again, as the visitor reads it (in their language, Amsterdam time). */
import type { Language } from "./i18n";

// Arabic with Western digits, as the texts write numbers.
const LOCALES: Record<Language, string> = {
  nl: "nl-NL",
  en: "en-GB",
  pl: "pl-PL",
  ro: "ro-RO",
  bg: "bg-BG",
  uk: "uk-UA",
  ar: "ar-u-nu-latn",
};

export function formatOpening(iso: string | null, language: Language): string | null {
  if (!iso) return null;
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return null;
  return new Intl.DateTimeFormat(LOCALES[language], {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Europe/Amsterdam",
  }).format(when);
}
