/**
 * The visitor's verdict on the "chat ended" screen (issue 24): one to three questions, each
 * answered with one tap (a radio button, so arrows and Space work too), then "Send" or "Skip".
 * Asked only after a chat with a counsellor that ended normally: the bot's offer came when a
 * counsellor joined, and a quick exit, a page that goes away or a chat ended with a return code
 * drop it. The answers go with the offer's one-time ticket and nothing else (api.ts sendFeedback).
 */
import type { FeedbackOffer } from "../content";
import { el, t, type Screens } from "../ui";

export interface FeedbackForm {
  /** The form (hidden until `show`), and the thanks after it. */
  nodes: HTMLElement[];
  /** Keep the offer for when the chat ends. */
  offer(offer: FeedbackOffer): void;
  /** Drop the offer: the chat did not end normally. */
  forget(): void;
  /** The chat ended normally: ask, if there is something to ask. */
  show(): void;
}

export function feedbackForm(screens: Screens, send: (ticket: string, answers: Record<string, string>) => void): FeedbackForm {
  let pending: FeedbackOffer | null = null;
  const questions = el("div", { class: "kp-feedback-questions" });
  const sendButton = t("button", "feedback_send", { type: "submit", class: "kp-primary" });
  const skipButton = t("button", "feedback_skip", { type: "button", class: "kp-secondary" });
  const form = el(
    "form",
    { class: "kp-feedback", "aria-labelledby": "kp-feedback-h", hidden: "" },
    t("h2", "feedback_heading", { id: "kp-feedback-h", tabindex: "-1" }),
    t("p", "feedback_intro"),
    questions,
    el("div", { class: "kp-actions" }, skipButton, sendButton),
  );
  const thanks = t("p", "feedback_thanks", { role: "status", class: "kp-feedback-thanks", hidden: "" });

  const render = (offer: FeedbackOffer): void => {
    // The questions are configured in Dutch and English (keerpunt.yaml): other languages read the English.
    const lang = screens.lang === "nl" ? "nl" : "en";
    const chosen = new Map(
      [...questions.querySelectorAll<HTMLInputElement>("input:checked")].map((input) => [input.name, input.value]),
    );
    questions.replaceChildren(
      ...offer.questions.map((question, q) =>
        el(
          "fieldset",
          {},
          el("legend", {}, document.createTextNode(question.text[lang])),
          ...question.answers.map((answer, a) => {
            const id = `kp-fb-${q}-${a}`;
            const input = el("input", { type: "radio", id, name: question.id, value: answer.id });
            input.checked = chosen.get(question.id) === answer.id;
            return el("label", { for: id, class: "kp-feedback-answer" }, input, document.createTextNode(answer.label[lang]));
          }),
        ),
      ),
    );
  };

  const finish = (answers: Record<string, string>): void => {
    if (!pending) return;
    send(pending.ticket, answers);
    pending = null;
    form.hidden = true;
    questions.replaceChildren();
    thanks.hidden = false;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const answers: Record<string, string> = {};
    for (const input of questions.querySelectorAll<HTMLInputElement>("input:checked")) answers[input.name] = input.value;
    finish(answers);
  });
  skipButton.addEventListener("click", () => finish({}));
  // The question texts come from the bot in both languages: shown again in the one chosen.
  screens.onLanguage(() => {
    if (pending && !form.hidden) render(pending);
  });

  return {
    nodes: [form, thanks],
    offer(offer) {
      pending = offer;
    },
    forget() {
      pending = null;
      form.hidden = true;
      questions.replaceChildren();
    },
    show() {
      thanks.hidden = true;
      if (!pending) return;
      render(pending);
      form.hidden = false;
    },
  };
}
