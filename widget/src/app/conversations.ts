/**
 * The visitor's conversations side by side: the case room and, after a warm handover, the
 * handover room. Each has its own message list in its own panel; a tab list (the WAI-ARIA tabs
 * pattern: arrow keys, Home and End move between tabs) appears once there are two. A message in
 * the conversation that is not shown counts as unread on its tab and is announced once.
 * Everything lives in the DOM and in memory; `clear()` drops it all.
 */
import { translate, type Key } from "./i18n";
import type { MessageView, RoomKind } from "./session/types";
import { Switcher } from "./switcher";
import { MessageList } from "./messages";
import { el, type Screens } from "./ui";

export interface ConversationHandlers {
  /** A prompt button was pressed in `room`'s list. */
  option(room: string, prompt: string, option: string, label: string, group: HTMLElement): void;
  retry(key: string): void;
  /** Another conversation is shown now (the composer, queue and typing lines follow it). */
  switched(room: string): void;
}

export interface Conversation {
  readonly room: string;
  readonly kind: RoomKind;
  readonly list: MessageList;
  readonly panel: HTMLElement;
  readonly tab: HTMLButtonElement;
  readonly name: HTMLElement;
  readonly badge: HTMLElement;
  /** Nothing more can be sent here (the case was closed, or we left the handover room). */
  closed: boolean;
  typing: string[];
}

export class Conversations {
  readonly tablist: HTMLElement;
  readonly panels: HTMLElement;
  /** Polite announcements of unread messages in the conversation that is not shown. */
  readonly announcer: HTMLElement;
  private readonly switcher = new Switcher();
  private readonly byRoom = new Map<string, Conversation>();
  private counter = 0;

  constructor(
    private readonly screens: Screens,
    private readonly handlers: ConversationHandlers,
  ) {
    this.tablist = el("div", { class: "kp-tabs", role: "tablist", "data-t-label": "conversations_label", hidden: "" });
    this.panels = el("div", { class: "kp-panels" });
    this.announcer = el("p", { class: "kp-visually-hidden", role: "status" });
  }

  get(room: string): Conversation | undefined {
    return this.byRoom.get(room);
  }

  get active(): Conversation | undefined {
    const room = this.switcher.active;
    return room === null ? undefined : this.byRoom.get(room);
  }

  get all(): Conversation[] {
    return this.switcher.ids.map((id) => this.byRoom.get(id)).filter((c): c is Conversation => !!c);
  }

  /** The conversation of `room`, made (with its tab and panel) when it is new. */
  open(room: string, kind: RoomKind): Conversation {
    const known = this.byRoom.get(room);
    if (known) return known;
    this.counter += 1;
    const n = this.counter;
    const list = new MessageList(
      this.screens,
      (prompt, option, label, group) => this.handlers.option(room, prompt, option, label, group),
      (key) => this.handlers.retry(key),
    );
    const name = el("span", { id: `kp-tab-name-${n}` });
    this.screens.setText(name, kind === "case" ? "tab_case" : "tab_handover");
    const badge = el("span", { class: "kp-unread", hidden: "" });
    const tab = el(
      "button",
      { type: "button", role: "tab", id: `kp-tab-${n}`, "aria-controls": `kp-panel-${n}`, class: "kp-tab" },
      name,
      badge,
    );
    const panel = el("div", { class: "kp-panel", id: `kp-panel-${n}` }, list.region);
    if (kind === "case") {
      list.region.setAttribute("aria-label", translate(this.screens.lang, "chat_heading"));
    } else {
      // The log is named after the partner, as its tab is.
      list.region.removeAttribute("data-t-label");
      list.region.setAttribute("aria-labelledby", name.id);
    }
    const conversation: Conversation = { room, kind, list, panel, tab, name, badge, closed: false, typing: [] };
    this.byRoom.set(room, conversation);
    this.switcher.add(room);
    tab.addEventListener("click", () => this.activate(room));
    tab.addEventListener("keydown", (event) => {
      const next = this.switcher.neighbour(room, event.key);
      if (!next || next === room) return;
      event.preventDefault();
      this.activate(next);
      this.byRoom.get(next)?.tab.focus();
    });
    this.tablist.appendChild(tab);
    this.panels.appendChild(panel);
    this.refresh();
    return conversation;
  }

  /** Show `room`'s conversation; its unread marker goes. */
  activate(room: string): void {
    if (!this.byRoom.has(room)) return;
    const changed = this.switcher.activate(room);
    this.refresh();
    const shown = this.byRoom.get(room);
    if (shown) shown.list.region.scrollTop = shown.list.region.scrollHeight;
    if (changed) this.handlers.switched(room);
  }

  /** Show a message; a new one from someone else in the conversation not shown counts as unread. */
  message(room: string, view: MessageView): void {
    const conversation = this.byRoom.get(room);
    if (!conversation) return;
    const fresh = conversation.list.upsert(view);
    if (!fresh || view.from === "me") return;
    const unread = this.switcher.incoming(room);
    if (unread === 0) return;
    this.showUnread(conversation);
    if (unread === 1) this.screens.setText(this.announcer, "unread_announce", { name: conversation.name.textContent ?? "" });
  }

  system(room: string, key: Key, vars: Record<string, string | number> = {}): void {
    this.byRoom.get(room)?.list.system(key, vars);
  }

  /** The partner's name (from the bot's introduction) becomes the handover tab's label. */
  setPartner(room: string, partner: string): void {
    const conversation = this.byRoom.get(room);
    if (!conversation || conversation.kind === "case") return;
    delete conversation.name.dataset.t; // a name, not a translation key
    conversation.name.textContent = partner;
  }

  /** Drop every conversation, its messages and its tab. */
  clear(): void {
    for (const conversation of this.byRoom.values()) {
      conversation.list.clear();
      conversation.panel.remove();
      conversation.tab.remove();
    }
    this.byRoom.clear();
    this.switcher.clear();
    this.screens.clearText(this.announcer);
    this.refresh();
  }

  private showUnread(conversation: Conversation): void {
    const count = this.switcher.unread(conversation.room);
    conversation.badge.hidden = count === 0;
    if (count === 0) {
      this.screens.clearText(conversation.badge);
    } else {
      this.screens.setText(conversation.badge, "unread", { count });
    }
  }

  private refresh(): void {
    const switchable = this.switcher.switchable;
    this.tablist.hidden = !switchable;
    for (const conversation of this.byRoom.values()) {
      const shown = conversation.room === this.switcher.active;
      conversation.panel.hidden = !shown;
      conversation.tab.setAttribute("aria-selected", String(shown));
      conversation.tab.tabIndex = shown ? 0 : -1;
      // Tab panels only while there are tabs; a single conversation is just the chat.
      if (switchable) {
        conversation.panel.setAttribute("role", "tabpanel");
        conversation.panel.setAttribute("aria-labelledby", conversation.tab.id);
      } else {
        conversation.panel.removeAttribute("role");
        conversation.panel.removeAttribute("aria-labelledby");
      }
      this.showUnread(conversation);
    }
  }
}
