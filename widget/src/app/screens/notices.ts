/** The screens between start and chat, and after it: connecting, closed, an error, ended. */
import { sendFeedback } from "../api";
import type { FeedbackOffer } from "../content";
import { formatOpening } from "../hours";
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
  /** Show the screen, saying when the chat opens again (or that nobody knows yet). */
  show(opensAt: string | null): void;
}

export function closedScreen(screens: Screens, portalUrl: string): ClosedScreen {
  const text = el("p", {});
  const portalLink = t("a", "closed_portal", { href: portalUrl, target: "_top" });
  const section = el(
    "section",
    {},
    t("h1", "closed_heading", { tabindex: "-1" }),
    text,
    t("p", "danger", { class: "kp-danger" }),
    el("p", {}, portalLink),
  );
  return {
    section,
    show(opensAt) {
      const when = formatOpening(opensAt, screens.lang);
      if (when) screens.setText(text, "closed_text", { when });
      else screens.setText(text, "closed_unknown");
      screens.show("closed");
    },
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
}

export function endedScreen(screens: Screens, api: string, on: { newChat(): void }): EndedScreen {
  const newChatButton = t("button", "new_chat", { type: "button", class: "kp-primary" });
  newChatButton.addEventListener("click", () => on.newChat());
  const text = t("p", "ended_text");
  const verdict = feedbackForm(screens, (ticket, answers) => void sendFeedback(api, ticket, answers));
  const section = el("section", {}, t("h1", "ended_heading", { tabindex: "-1" }), text, ...verdict.nodes, newChatButton);
  return {
    section,
    withCode(made) {
      screens.setText(text, made ? "ended_text_code" : "ended_text");
      if (made) verdict.forget();
      else verdict.show();
    },
    offer: (offer) => verdict.offer(offer),
    forget: () => verdict.forget(),
  };
}
