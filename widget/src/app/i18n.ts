/**
 * Translations: Dutch (default, B1, "je"), English, and (issue 26) Polish, Romanian, Bulgarian,
 * Ukrainian and Arabic. Code holds keys, the JSON files hold text; `reviewed.json` records which
 * keys of each language a native speaker signed off (`keerpunt texts check`).
 */
import nl from "./locales/nl.json";
import enJson from "./locales/en.json";
import plJson from "./locales/pl.json";
import roJson from "./locales/ro.json";
import bgJson from "./locales/bg.json";
import ukJson from "./locales/uk.json";
import arJson from "./locales/ar.json";

export type Messages = typeof nl;
export type Key = keyof Messages;
export type Language = "nl" | "en" | "pl" | "ro" | "bg" | "uk" | "ar";
export const LANGUAGES: readonly Language[] = ["nl", "en", "pl", "ro", "bg", "uk", "ar"];

// Typed against the Dutch file: a key missing from another language fails `tsc`.
const CATALOGUES: Record<Language, Messages> = { nl, en: enJson, pl: plJson, ro: roJson, bg: bgJson, uk: ukJson, ar: arJson };

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
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
