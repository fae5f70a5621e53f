/**
 * The DOM of the chat app, built with createElement and textContent only. Static texts carry
 * their translation key (`data-t`, `data-t-label`) so a language switch re-labels everything.
 */
import { catalogue, direction, LANGUAGES, translate, type Key, type Language } from "./i18n";

type Attrs = Record<string, string>;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | null)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

/** An element whose text is a translation key. */
export function t<K extends keyof HTMLElementTagNameMap>(tag: K, key: Key, attrs: Attrs = {}): HTMLElementTagNameMap[K] {
  return el(tag, { ...attrs, "data-t": key });
}

export type ScreenName = "start" | "connecting" | "closed" | "error" | "chat" | "ended";

export class Screens {
  readonly root: HTMLElement;
  readonly header: HTMLElement;
  /** The language choice: every language named in itself (issue 26). */
  readonly langSelect: HTMLSelectElement;
  readonly minimiseButton: HTMLButtonElement | null;
  readonly screens = new Map<ScreenName, HTMLElement>();
  readonly cover: HTMLElement;
  private vars = new WeakMap<Element, Record<string, string | number>>();

  constructor(
    root: HTMLElement,
    private language: Language,
    embedded: boolean,
  ) {
    this.root = root;
    this.langSelect = el("select", { class: "kp-lang", "data-t-label": "lang_choose" });
    for (const lang of LANGUAGES) {
      const option = el("option", { value: lang, lang, dir: direction(lang) });
      option.textContent = catalogue(lang).lang_name;
      this.langSelect.append(option);
    }
    // A glyph (styles.css) with the label as its name: a phone's header keeps to one row.
    this.minimiseButton = embedded ? el("button", { type: "button", class: "kp-minimise", "data-t-label": "minimise" }) : null;
    this.header = el(
      "header",
      { class: "kp-header" },
      el("span", { class: "kp-brand", "aria-hidden": "true" }, document.createTextNode("Keerpunt")),
      // About the Shift key: hidden on touch screens (styles.css, pointer: coarse).
      el("span", { class: "kp-hint kp-keys-only", "data-t": "quick_exit_hint" }),
      this.langSelect,
      this.minimiseButton,
    );
    this.cover = el("div", { class: "kp-cover", hidden: "" });
  }

  get lang(): Language {
    return this.language;
  }

  add(name: ScreenName, section: HTMLElement): HTMLElement {
    section.classList.add("kp-screen");
    section.hidden = true;
    this.screens.set(name, section);
    return section;
  }

  /** Show one screen and move focus to its heading (or to `focus`; `false`: leave focus alone). */
  show(name: ScreenName, focus?: HTMLElement | null | false): void {
    for (const [n, s] of this.screens) s.hidden = n !== name;
    if (focus === false) return;
    const target = focus ?? this.screens.get(name)?.querySelector<HTMLElement>("h1, h2");
    target?.focus();
  }

  /** Set a translated text with variables, remembered for language switches. */
  setText(node: HTMLElement, key: Key, vars: Record<string, string | number> = {}): void {
    node.dataset.t = key;
    this.vars.set(node, vars);
    node.textContent = translate(this.language, key, vars);
  }

  /** Empty a node that held a translated text: a language switch must not bring it back. */
  clearText(node: HTMLElement): void {
    delete node.dataset.t;
    this.vars.delete(node);
    node.textContent = "";
  }

  apply(language: Language): void {
    this.language = language;
    document.documentElement.lang = language;
    document.documentElement.dir = direction(language);
    document.title = translate(language, "page_title");
    for (const node of document.querySelectorAll<HTMLElement>("[data-t]")) {
      node.textContent = translate(language, node.dataset.t as Key, this.vars.get(node) ?? {});
    }
    for (const node of document.querySelectorAll<HTMLElement>("[data-t-label]")) {
      node.setAttribute("aria-label", translate(language, node.dataset.tLabel as Key));
    }
    this.langSelect.value = language;
  }

  /** Call `listener` with each language the visitor picks. */
  onLanguage(listener: (language: Language) => void): void {
    this.langSelect.addEventListener("change", () => listener(this.langSelect.value as Language));
  }
}
