/** Translations: Dutch (default, B1, "je") and English. Code holds keys, the JSON files hold text. */
import nl from "./locales/nl.json";
import enJson from "./locales/en.json";

export type Messages = typeof nl;
export type Key = keyof Messages;
export type Language = "nl" | "en";
export const LANGUAGES: readonly Language[] = ["nl", "en"];

// Typed against the Dutch file: a key missing from English fails `tsc`.
const en: Messages = enJson;
const CATALOGUES: Record<Language, Messages> = { nl, en };

export function isLanguage(value: unknown): value is Language {
  return value === "nl" || value === "en";
}

export function translate(language: Language, key: Key, vars: Record<string, string | number> = {}): string {
  const text = CATALOGUES[language][key];
  return text.replace(/\{(\w+)\}/g, (match, name: string) => (name in vars ? String(vars[name]) : match));
}

/** Languages written right to left (issue 26 brings Arabic); the stylesheet uses logical properties. */
const RIGHT_TO_LEFT: ReadonlySet<string> = new Set(["ar", "fa", "he", "ur"]);

export function direction(language: string): "ltr" | "rtl" {
  return RIGHT_TO_LEFT.has(language) ? "rtl" : "ltr";
}

export function catalogue(language: Language): Messages {
  return CATALOGUES[language];
}
