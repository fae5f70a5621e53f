/**
 * The chat screen: the conversations (conversations.ts), a status banner, the queue and typing
 * lines, the composer and "End chat" with its confirmation. SECURITY.md A.6: the composer turns
 * off autocomplete, spellcheck and autocorrect.
 */
import type { QueueInfo } from "../content";
import type { Conversation, Conversations } from "../conversations";
import type { Key } from "../i18n";
import { el, t, type Screens } from "../ui";
import { endDialog } from "./enddialog";
import { laterDialog, type LaterDialog } from "./later";
import { laterOffer } from "./lateroffer";

export type BannerKey = Extract<Key, "connection_lost" | "connection_back" | "untrusted" | "end_saving">;

export interface ChatHandlers {
  /** The visitor sends `body` (trimmed, not empty). False: there is nowhere to send it (the text stays). */
  send(body: string): boolean;
  /** The visitor typed in the composer. */
  typed(): void;
  /** The visitor confirmed ending the chat. */
  end(): void;
  quickExit(): void;
  /** The visitor chose a second word in "Wil je later verder praten?": make the code. */
  makeCode?(word: string): void;
  /** "Schrijf nu, we antwoorden later" (docs/write-later.md). */
  writeLater?(): void;
}

export interface ChatView {
  section: HTMLElement;
  input: HTMLTextAreaElement;
  endButton: HTMLButtonElement;
  /** "Wil je later verder praten?" (null: return codes are off). */
  later: LaterDialog | null;
  /** The chat has a return code (or not): the end dialog and the ended screen say what that means. */
  codeMade(made: boolean): void;
  /** The composer, the queue line and the typing line follow the conversation that is shown. */
  follow(shown: Conversation | undefined): void;
  /** The place in the queue and the expected wait (each part only when known); null: no line. */
  showQueue(info: QueueInfo | null): void;
  /** Show the banner with this text; `hideAfterMs`: hide it again after that long (unless replaced). */
  showBanner(key: BannerKey, hideAfterMs?: number): void;
  hideBanner(): void;
  /** Back to how it was before the chat: nothing disabled, no lines, no banner. */
  reset(): void;
}

export function chatScreen(
  screens: Screens,
  conversations: Conversations,
  quickExitUrl: string,
  on: ChatHandlers,
  returnCode: { days: number; tries: number } | null = null,
  laterAfter: { afterMinutes: number; answerHours: number } | null = null,
): ChatView {
  const offer = laterOffer(screens, laterAfter, () => on.writeLater?.());
  const banner = el("p", { class: "kp-banner", role: "status", hidden: "" });
  let bannerTimer: ReturnType<typeof setTimeout> | undefined;
  const queueLine = el("p", { class: "kp-queue", role: "status" });
  const typingLine = el("p", { class: "kp-typing", "aria-hidden": "true" });
  const input = el("textarea", {
    id: "kp-input",
    rows: "2",
    maxlength: "4000",
    autocomplete: "off",
    autocorrect: "off",
    autocapitalize: "off",
    spellcheck: "false",
    enterkeyhint: "send",
  });
  const sendButton = t("button", "send", { type: "submit", class: "kp-primary" });
  const form = el(
    "form",
    { class: "kp-composer" },
    t("label", "composer_label", { for: "kp-input", class: "kp-visually-hidden" }),
    input,
    sendButton,
  );
  const endButton = t("button", "end_button", { type: "button", class: "kp-secondary" });
  const dialog = endDialog(quickExitUrl, {
    confirm: () => on.end(),
    cancel: () => endButton.focus(),
    quickExit: () => on.quickExit(),
  });
  const endText = dialog.dialog.querySelector<HTMLElement>("#kp-end-p");
  const laterButton = returnCode ? t("button", "later_button", { type: "button", class: "kp-secondary kp-later-button" }) : null;
  const later = returnCode
    ? laterDialog(screens, quickExitUrl, returnCode, {
        make: (word) => on.makeCode?.(word),
        closed: () => laterButton?.focus(),
        quickExit: () => on.quickExit(),
      })
    : null;
  laterButton?.addEventListener("click", () => later?.open());
  const section = el(
    "section",
    { class: "kp-chat", "aria-labelledby": "kp-chat-h" },
    t("h1", "chat_heading", { id: "kp-chat-h", tabindex: "-1", class: "kp-visually-hidden" }),
    banner,
    conversations.tablist,
    queueLine,
    offer.element,
    conversations.panels,
    typingLine,
    form,
    el("div", { class: "kp-chat-actions" }, laterButton, endButton),
    conversations.announcer,
    dialog.dialog,
    later?.dialog ?? null,
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (body && on.send(body)) input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => on.typed());
  endButton.addEventListener("click", () => dialog.open());

  return {
    section,
    input,
    endButton,
    later,
    codeMade(made) {
      if (endText) screens.setText(endText, made ? "end_confirm_text_code" : "end_confirm_text");
    },
    follow(shown) {
      const closed = shown?.closed ?? false;
      input.disabled = closed;
      sendButton.disabled = closed;
      queueLine.hidden = shown !== undefined && shown.kind !== "case";
      const who = shown?.typing[0];
      if (who) screens.setText(typingLine, "typing", { who });
      else screens.clearText(typingLine);
    },
    showQueue(info) {
      // One translated text per part: a language switch re-translates each of them.
      const texts: [Key, Record<string, number>][] = [];
      if (info && info.position !== null) texts.push(["queue_position", { position: info.position }]);
      if (info && info.minutes !== null) texts.push(["queue_wait", { minutes: info.minutes }]);
      const parts = texts.map(([key, vars]) => {
        const part = el("span", {});
        screens.setText(part, key, vars);
        return part;
      });
      queueLine.replaceChildren(...parts.flatMap((part, i) => (i > 0 ? [" ", part] : [part])));
      offer.waiting(info);
    },
    showBanner(key, hideAfterMs) {
      clearTimeout(bannerTimer);
      banner.hidden = false;
      screens.setText(banner, key);
      if (hideAfterMs !== undefined) bannerTimer = setTimeout(() => (banner.hidden = true), hideAfterMs);
    },
    hideBanner() {
      clearTimeout(bannerTimer);
      banner.hidden = true;
    },
    reset() {
      input.disabled = false;
      sendButton.disabled = false;
      queueLine.replaceChildren();
      queueLine.hidden = false;
      offer.waiting(null);
      screens.clearText(typingLine);
      clearTimeout(bannerTimer);
      banner.hidden = true;
      later?.reset();
      if (endText) screens.setText(endText, "end_confirm_text");
    },
  };
}
