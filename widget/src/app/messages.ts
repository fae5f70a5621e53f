/**
 * One conversation's messages as a list: one <li> per message key, updated in place, with the
 * bot's prompt buttons and our messages' send state. Text goes in through text nodes only
 * (render.ts); names through displayName.
 */
import { translate, type Key } from "./i18n";
import { displayName, renderBody } from "./render";
import type { MessageView } from "./session/types";
import { el, type Screens } from "./ui";

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
    // A message that grows in place (decrypted into a question with buttons) keeps the end of
    // the list in view for a visitor who was reading the end.
    const following = this.atEnd();
    let li = this.items.get(view.key);
    const fresh = !li;
    if (!li) {
      li = el("li", {});
      this.items.set(view.key, li);
    }
    li.className = `kp-msg kp-msg--${view.from}${view.notice ? " kp-msg--notice" : ""}`;
    li.replaceChildren();
    const who = el("p", { class: "kp-who", dir: "auto" });
    if (view.from === "me") this.screens.setText(who, "you");
    else if (view.from === "bot") this.screens.setText(who, "bot");
    else if (view.name) who.textContent = displayName(view.name, "");
    if (!who.textContent) this.screens.setText(who, "counsellor");
    // dir=auto: a message takes the direction of its own first strong letter, so a Dutch line
    // reads left to right in the Arabic chat and an Arabic one right to left in the Dutch chat.
    const body = el("p", { class: "kp-body", dir: "auto" });
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
      // For bench/first_contact.py: when the first question's buttons are on the page.
      if (performance.getEntriesByName("kp-options").length === 0) performance.mark("kp-options");
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
    else if (following && li === this.list.lastElementChild) this.region.scrollTop = this.region.scrollHeight;
    return fresh;
  }

  private atEnd(): boolean {
    const r = this.region;
    return r.scrollHeight - r.scrollTop - r.clientHeight < 16;
  }

  /**
   * The visitor chose "later": enable the buttons of the newest question whose prompt id is
   * `prompt` or `prompt:<id>` (a handover question's id names its handover: `handover:<id>`).
   */
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
