/** The screens between start and chat, and after it: connecting, closed, an error, ended. */
import { sendFeedback } from "../api";
import type { FeedbackOffer } from "../content";
import { formatOpening } from "../hours";
import { answerBy, openingMs } from "../returncode/later";
import { feedbackForm } from "./feedback";
import { el, t, type Screens } from "../ui";

export function connectingScreen(): HTMLElement {
  return el(
    "section",
    { role: "status" },
    t("h1", "connecting", { tabindex: "-1" }),
    // Shown while a raised or hard proof of work is solved (challenge/proof.ts).
    t("p", "connecting_slow", { class: "kp-slow", hidden: "" }),
    el("div", { class: "kp-spinner", "aria-hidden": "true" }),
  );
}

export interface ClosedScreen {
  section: HTMLElement;
  /** Show the screen, saying when the chat opens again (or that nobody knows yet); `later`: the
   * bots take a message to answer then (docs/write-later.md). */
  show(opensAt: string | null, later?: boolean): void;
  /** When the chat opens, as last shown (for the promise after a message left while closed). */
  opensAt(): string | null;
}

export function closedScreen(
  screens: Screens,
  portalUrl: string,
  later: { answerHours: number } | null = null,
  writeLater: () => void = () => undefined,
): ClosedScreen {
  const text = el("p", {});
  const portalLink = t("a", "closed_portal", { href: portalUrl, target: "_top" });
  // Beside the emergency numbers: write now, a counsellor answers after the opening (only when on).
  const laterText = later ? el("p", { hidden: "" }) : null;
  const laterButton = later ? t("button", "write_later_button", { type: "button", class: "kp-primary", hidden: "" }) : null;
  laterButton?.addEventListener("click", () => writeLater());
  const section = el(
    "section",
    {},
    t("h1", "closed_heading", { tabindex: "-1" }),
    text,
    t("p", "danger", { class: "kp-danger" }),
    laterText,
    laterButton,
    el("p", {}, portalLink),
  );
  let shownOpening: string | null = null;
  return {
    section,
    show(opensAt, offer = false) {
      shownOpening = opensAt;
      const when = formatOpening(opensAt, screens.lang);
      if (when) screens.setText(text, "closed_text", { when });
      else screens.setText(text, "closed_unknown");
      const by = later && offer ? answerBy(openingMs(opensAt), later.answerHours, screens.lang) : null;
      if (laterText && laterButton) laterText.hidden = laterButton.hidden = by === null;
      if (laterText && by !== null) screens.setText(laterText, "write_later_text", { when: by });
      screens.show("closed");
    },
    opensAt: () => shownOpening,
  };
}

export type ErrorKey = "error_busy" | "error_start" | "error_browser" | "error_code" | "error_code_later";

export interface ErrorScreen {
  section: HTMLElement;
  /** Show the screen with this error; focus goes to its text. */
  show(key: ErrorKey): void;
}

export function errorScreen(screens: Screens, on: { retry(): void }): ErrorScreen {
  const text = el("p", { tabindex: "-1", class: "kp-error-text" });
  const retryButton = t("button", "retry", { type: "button", class: "kp-primary" });
  retryButton.addEventListener("click", () => on.retry());
  const section = el("section", { role: "alert" }, text, retryButton, t("p", "danger", { class: "kp-danger" }));
  return {
    section,
    show(key) {
      screens.setText(text, key);
      screens.show("error", text);
    },
  };
}

export interface EndedScreen {
  section: HTMLElement;
  /** The chat ended, with a return code or not: say whether the visitor can come back; without
   * one, ask the verdict's questions (if a counsellor was there: `offer`). */
  withCode(made: boolean): void;
  /** The verdict's ticket and questions, kept until the chat ends. */
  offer(offer: FeedbackOffer): void;
  /** The chat did not end normally (quick exit, the page went away): nothing is asked. */
  forget(): void;
  /** A message was left to be answered later (docs/write-later.md), promised from `from` (ms). */
  laterFrom(from: number | null): void;
}

export function endedScreen(
  screens: Screens,
  api: string,
  on: { newChat(): void },
  later: { answerHours: number } | null = null,
): EndedScreen {
  let laterBy: string | null = null;
  const newChatButton = t("button", "new_chat", { type: "button", class: "kp-primary" });
  newChatButton.addEventListener("click", () => on.newChat());
  const text = t("p", "ended_text");
  const verdict = feedbackForm(screens, (ticket, answers) => void sendFeedback(api, ticket, answers));
  const section = el("section", {}, t("h1", "ended_heading", { tabindex: "-1" }), text, ...verdict.nodes, newChatButton);
  return {
    section,
    withCode(made) {
      if (made && laterBy !== null) screens.setText(text, "ended_text_later", { when: laterBy });
      else screens.setText(text, made ? "ended_text_code" : "ended_text");
      if (made) verdict.forget();
      else verdict.show();
    },
    offer: (offer) => verdict.offer(offer),
    forget: () => verdict.forget(),
    laterFrom(from) {
      laterBy = later ? answerBy(from, later.answerHours, screens.lang) : null;
    },
  };
}
