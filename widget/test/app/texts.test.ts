// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { ChatApp } from "../../src/app/app";
import { hostLink } from "../../src/app/host";
import { catalogue, LANGUAGES, translate, type Key } from "../../src/app/i18n";
import { CONFIG, dialogs, pickLanguage } from "./dom";

/** Every piece of text on the page, with the translation key of the element that holds it. */
function texts(): { text: string; key: string | undefined }[] {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found: { text: string; key: string | undefined }[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent?.trim() ?? "";
    if (text) found.push({ text, key: node.parentElement?.dataset.t });
  }
  return found;
}

/** The chat app on an empty page, its start screen shown. */
function mountApp(config: typeof CONFIG): ChatApp {
  dialogs();
  const root = document.createElement("main");
  document.body.replaceChildren(root);
  return new ChatApp({
    config,
    root,
    minimisable: true,
    outreach: { invite: null, campaign: null },
    host: hostLink({ postMessage: vi.fn() }, "https://partner.test"),
    replace: vi.fn(),
    reload: vi.fn(),
  });
}

describe("the app's texts", () => {
  it("all come from the locale files, in Dutch by default and in each language picked", () => {
    const app = mountApp({ ...CONFIG, openNow: false, opensAt: "2030-01-07T09:00:00+01:00" });
    for (const language of LANGUAGES) {
      if (language !== "nl") pickLanguage(app.screens, language);
      expect(document.documentElement.lang).toBe(language);
      const found = texts();
      expect(found.length).toBeGreaterThan(25);
      const values = new Set(Object.values(catalogue(language)));
      for (const { text, key } of found) {
        if (text === "Keerpunt" && key === undefined) continue; // the brand in the header
        // The language choice names each language in itself, whatever the chosen one.
        if (LANGUAGES.some((other) => catalogue(other).lang_name === text) && key === undefined) continue;
        expect(key, `"${text}" has no translation key`).toBeDefined();
        const template = catalogue(language)[key as Key];
        if (template.includes("{")) {
          const [before] = template.split("{");
          expect(text.startsWith(before ?? "")).toBe(true);
        } else {
          expect(values.has(text), `"${text}" is not in ${language}.json`).toBe(true);
          expect(text).toBe(translate(language, key as Key));
        }
      }
      for (const labelled of document.querySelectorAll<HTMLElement>("[data-t-label]")) {
        expect(labelled.getAttribute("aria-label")).toBe(translate(language, labelled.dataset.tLabel as Key));
      }
      expect(document.title).toBe(translate(language, "page_title"));
    }
  });
});

describe("the language choice", () => {
  it("names every language in itself and sets lang and dir (right to left for Arabic)", () => {
    const app = mountApp(CONFIG);
    const options = [...app.screens.langSelect.options].map((o) => [o.value, o.lang, o.textContent]);
    expect(options).toEqual([
      ["nl", "nl", "Nederlands"],
      ["en", "en", "English"],
      ["pl", "pl", "Polski"],
      ["ro", "ro", "Română"],
      ["bg", "bg", "Български"],
      ["uk", "uk", "Українська"],
      ["ar", "ar", "العربية"],
    ]);
    pickLanguage(app.screens, "ar");
    expect([document.documentElement.lang, document.documentElement.dir]).toEqual(["ar", "rtl"]);
    expect(document.querySelector("[data-t=start_button]")?.textContent).toBe("بدء الدردشة");
    pickLanguage(app.screens, "pl");
    expect([document.documentElement.lang, document.documentElement.dir]).toEqual(["pl", "ltr"]);
    expect(document.querySelector("[data-t=quick_exit]")?.textContent).toBe("Szybkie wyjście");
  });

  it("every locale has the Dutch placeholders in each text", () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const language of LANGUAGES) {
      for (const key of Object.keys(catalogue("nl")) as Key[]) {
        expect(placeholders(catalogue(language)[key]), `${language}: ${key}`).toEqual(placeholders(catalogue("nl")[key]));
      }
    }
  });
});
