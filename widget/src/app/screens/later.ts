/**
 * "Wil je later verder praten?" (docs/return-code.md): a modal dialog in three steps. First what
 * a code can and cannot do; then the second word, which the visitor chooses and keeps in their
 * head; then the code itself, shown only here and only to the visitor. The same dialog shows the
 * new code after a return (rotation). Like the end dialog it carries its own quick exit.
 *
 * Nothing here is stored: the code and the word live in this DOM and in memory until the
 * dialog closes or the chat ends (reset()).
 */
import { el, t, type Screens } from "../ui";

/** Shortest second word accepted: a word of a few letters, not a single key. */
export const MIN_WORD = 4;

export interface LaterDialog {
  dialog: HTMLDialogElement;
  /** Step one: what a code does. */
  open(): void;
  /** Show `code` (its words joined); `rotated`: this replaces an earlier code. */
  showCode(code: string, rotated: boolean): void;
  /** Making the code failed: say so on the word step, which can be tried again. */
  failed(): void;
  /** Close and forget everything shown or typed. */
  reset(): void;
}

export function laterDialog(
  screens: Screens,
  quickExitUrl: string,
  limits: { days: number; tries: number },
  on: { make(word: string): void; closed(): void; quickExit(): void },
): LaterDialog {
  const exit = t("a", "quick_exit", {
    href: quickExitUrl,
    rel: "noreferrer",
    target: "_top",
    class: "kp-quick-exit kp-quick-exit--dialog",
  });
  const limitsText = el("p", {});
  screens.setText(limitsText, "later_limits", limits);
  const yes = t("button", "later_yes", { type: "button", class: "kp-primary" });
  const no = t("button", "later_no", { type: "button", class: "kp-secondary" });
  const explain = el(
    "div",
    { class: "kp-later-step" },
    t("p", "later_can"),
    t("p", "later_cannot", { class: "kp-later-warning" }),
    limitsText,
    el("div", { class: "kp-actions" }, no, yes),
  );

  const word = el("input", {
    id: "kp-later-word",
    type: "text",
    // Nothing typed here is remembered, suggested or corrected by the browser or the phone.
    autocomplete: "off",
    autocorrect: "off",
    autocapitalize: "off",
    spellcheck: "false",
    maxlength: "64",
    "aria-describedby": "kp-later-word-hint",
    class: "kp-secret",
  });
  const make = t("button", "later_make", { type: "submit", class: "kp-primary" });
  const status = el("p", { role: "status", class: "kp-later-status" });
  const wordForm = el(
    "form",
    { class: "kp-later-step", hidden: "" },
    t("label", "later_word_label", { for: "kp-later-word" }),
    t("p", "later_word_hint", { id: "kp-later-word-hint", class: "kp-code-hint" }),
    word,
    status,
    el("div", { class: "kp-actions" }, make),
  );

  const codeText = el("p", { class: "kp-later-code", id: "kp-later-code" });
  const codeNote = el("p", {});
  const done = t("button", "later_done", { type: "button", class: "kp-primary" });
  const shown = el(
    "div",
    { class: "kp-later-step", hidden: "" },
    t("h3", "later_code_heading"),
    codeText,
    codeNote,
    el("div", { class: "kp-actions" }, done),
  );

  const dialog = el(
    "dialog",
    { "aria-labelledby": "kp-later-h", class: "kp-later" },
    exit,
    t("h2", "later_heading", { id: "kp-later-h" }),
    explain,
    wordForm,
    shown,
  );

  const step = (which: HTMLElement): void => {
    for (const part of [explain, wordForm, shown]) part.hidden = part !== which;
  };
  const forget = (): void => {
    word.value = "";
    codeText.textContent = "";
    screens.clearText(status);
    word.disabled = false;
    make.disabled = false;
  };
  const close = (): void => {
    if (dialog.open) dialog.close();
    forget();
    on.closed();
  };

  exit.addEventListener("click", (event) => {
    event.preventDefault();
    on.quickExit();
  });
  no.addEventListener("click", close);
  done.addEventListener("click", close);
  dialog.addEventListener("cancel", () => forget());
  yes.addEventListener("click", () => {
    step(wordForm);
    word.focus();
  });
  wordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = word.value.trim();
    if ([...chosen].length < MIN_WORD) {
      word.focus();
      return;
    }
    word.disabled = true;
    make.disabled = true;
    screens.setText(status, "later_working");
    on.make(chosen);
  });

  return {
    dialog,
    open() {
      forget();
      step(explain);
      if (!dialog.open) dialog.showModal();
      yes.focus();
    },
    showCode(code, rotated) {
      word.value = "";
      screens.clearText(status);
      codeText.textContent = code;
      screens.setText(codeNote, rotated ? "later_code_new" : "later_code_text");
      step(shown);
      if (!dialog.open) dialog.showModal();
      done.focus();
    },
    failed() {
      word.disabled = false;
      make.disabled = false;
      screens.setText(status, "later_failed");
      word.focus();
    },
    reset() {
      if (dialog.open) dialog.close();
      forget();
      step(explain);
    },
  };
}
