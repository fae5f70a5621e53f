/**
 * The DOM of the chat app, built with createElement and textContent only. Static texts carry
 * their translation key (`data-t`, `data-t-label`) so a language switch re-labels everything.
 */
import { translate, type Key, type Language } from "./i18n";
import { renderBody, displayName } from "./render";
import type { MessageView } from "./session/types";

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
  readonly langButton: HTMLButtonElement;
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
    this.langButton = t("button", "lang_switch", { type: "button", "data-t-label": "lang_switch_label", lang: "" });
    this.minimiseButton = embedded ? t("button", "minimise", { type: "button", class: "kp-minimise" }) : null;
    this.header = el(
      "header",
      { class: "kp-header" },
      el("span", { class: "kp-brand", "aria-hidden": "true" }, document.createTextNode("Keerpunt")),
      el("span", { class: "kp-hint", "data-t": "quick_exit_hint" }),
      this.langButton,
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

  apply(language: Language): void {
    this.language = language;
    document.documentElement.lang = language;
    document.title = translate(language, "page_title");
    for (const node of document.querySelectorAll<HTMLElement>("[data-t]")) {
      node.textContent = translate(language, node.dataset.t as Key, this.vars.get(node) ?? {});
    }
    for (const node of document.querySelectorAll<HTMLElement>("[data-t-label]")) {
      node.setAttribute("aria-label", translate(language, node.dataset.tLabel as Key));
    }
    this.langButton.lang = language === "nl" ? "en" : "nl";
  }
}

/** The message list: one <li> per message key, updated in place. */
export class MessageList {
  /** The live region (role=log) around the list, so the list keeps its list semantics. */
  readonly region: HTMLElement;
  readonly list: HTMLOListElement;
  private readonly items = new Map<string, HTMLLIElement>();

  constructor(
    private readonly screens: Screens,
    private readonly onOption: (prompt: string, option: string, label: string, group: HTMLElement) => void,
    private readonly onRetry: (key: string) => void,
  ) {
    this.list = el("ol", { class: "kp-log" });
    // tabindex: a scrolling region must be reachable by keyboard to scroll it (WCAG 2.1.1).
    this.region = el(
      "div",
      {
        class: "kp-log-region",
        role: "log",
        "aria-live": "polite",
        "aria-relevant": "additions",
        "data-t-label": "chat_heading",
        tabindex: "0",
      },
      this.list,
    );
  }

  system(key: Key, vars: Record<string, string | number> = {}): void {
    const li = el("li", { class: "kp-msg kp-msg--system" });
    const p = el("p", { class: "kp-body" });
    this.screens.setText(p, key, vars);
    li.appendChild(p);
    this.append(li);
  }

  remove(key: string): void {
    this.items.get(key)?.remove();
    this.items.delete(key);
  }

  /** Show or update a message; true when it is new to the list. */
  upsert(view: MessageView): boolean {
    let li = this.items.get(view.key);
    const fresh = !li;
    if (!li) {
      li = el("li", {});
      this.items.set(view.key, li);
    }
    li.className = `kp-msg kp-msg--${view.from}${view.notice ? " kp-msg--notice" : ""}`;
    li.replaceChildren();
    const who = el("p", { class: "kp-who" });
    if (view.from === "me") this.screens.setText(who, "you");
    else if (view.from === "bot") this.screens.setText(who, "bot");
    else if (view.name) who.textContent = displayName(view.name, "");
    if (!who.textContent) this.screens.setText(who, "counsellor");
    const body = el("p", { class: "kp-body" });
    if (view.state === "decrypting") this.screens.setText(body, "decrypting");
    else if (view.state === "undecryptable") this.screens.setText(body, "undecryptable");
    else renderBody(document, body, view.body ?? "");
    li.append(who, body);
    if (view.prompt) {
      const group = el("div", {
        class: "kp-options",
        role: "group",
        "data-t-label": "prompt_label",
        "data-prompt": view.prompt.id,
      });
      group.setAttribute("aria-label", translate(this.screens.lang, "prompt_label"));
      for (const option of view.prompt.options) {
        const button = el("button", { type: "button", class: "kp-option" });
        button.textContent = option.label;
        const promptId = view.prompt.id;
        button.addEventListener("click", () => this.onOption(promptId, option.id, option.label, group));
        group.appendChild(button);
      }
      li.appendChild(group);
    }
    if (view.status) {
      const key: Key =
        view.status === "sending"
          ? "status_sending"
          : view.status === "sent"
            ? "status_sent"
            : view.status === "read"
              ? "status_read"
              : "status_failed";
      if (view.status === "failed") {
        const retry = el("button", { type: "button", class: "kp-status kp-retry" });
        this.screens.setText(retry, key);
        retry.addEventListener("click", () => this.onRetry(view.key));
        li.appendChild(retry);
      } else {
        const status = el("p", { class: "kp-status" });
        this.screens.setText(status, key);
        li.appendChild(status);
      }
    }
    if (fresh) this.append(li);
    return fresh;
  }

  /** The newest question `prompt` can be answered again (the visitor chose "later"). */
  /** Enable the buttons of the newest question whose prompt id is `prompt` or `prompt:<id>`
   * (a handover question's id names its handover: `handover:<id>`). */
  reopen(prompt: string): void {
    const matches = (id: string | undefined): boolean => id === prompt || !!id?.startsWith(`${prompt}:`);
    const groups = [...this.list.querySelectorAll<HTMLElement>(".kp-options")].filter((g) => matches(g.dataset.prompt));
    for (const button of groups.at(-1)?.querySelectorAll("button") ?? []) button.disabled = false;
  }

  private append(li: HTMLLIElement): void {
    this.list.appendChild(li);
    li.scrollIntoView?.({ block: "end" });
  }

  clear(): void {
    this.items.clear();
    this.list.replaceChildren();
  }
}
