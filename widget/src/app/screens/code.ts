/**
 * "I have a code" on the start screen: for someone who got an outreach code read aloud or on
 * paper instead of a link. A button opens a labelled text field; the code typed there goes with
 * the start request (outreach.ts). Nothing here checks the code: valid or not, the widget looks
 * and behaves the same (the API alone knows, and answers the same either way).
 *
 * The same field takes a return code (docs/return-code.md), told apart by its shape: words, not
 * 12 characters. Then (only when return codes are on) it asks for the second word, and offers
 * "return without history".
 */
import { normaliseCode, typedCode } from "../outreach";
import { returnCodeWords } from "../returncode/words";
import { el, t } from "../ui";

export interface ReturnEntry {
  words: string[];
  word: string;
  history: boolean;
}

export interface CodeEntry {
  element: HTMLElement;
  /** The code typed, or null (also while the field is closed). */
  value(): string | null;
  /** A return code with its second word, or null (closed, another shape, no word yet, or off). */
  returnCode(): ReturnEntry | null;
  /** Forget the second word; `code`: a return code typed too (an outreach code stays for "Try again"). */
  clear(code: boolean): void;
  /** Open the panel again with the focus on the second word (after a refused return). */
  again(): void;
}

export function codeEntry(on: { start(): void }, returnCodes = false): CodeEntry {
  const toggle = t("button", "code_toggle", {
    type: "button",
    class: "kp-code-toggle",
    "aria-expanded": "false",
    "aria-controls": "kp-code-panel",
  });
  const input = el("input", {
    id: "kp-code-input",
    type: "text",
    // Like the chat input: nothing typed here is remembered or suggested by the phone (A.6).
    autocomplete: "off",
    autocorrect: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    inputmode: "text",
    maxlength: "80",
    "aria-describedby": "kp-code-hint",
  });
  const word = el("input", {
    id: "kp-code-word",
    type: "text",
    autocomplete: "off",
    autocorrect: "off",
    autocapitalize: "off",
    spellcheck: "false",
    maxlength: "64",
    "aria-describedby": "kp-code-word-hint",
    class: "kp-secret",
  });
  const fresh = el("input", { id: "kp-code-fresh", type: "checkbox", "aria-describedby": "kp-code-fresh-hint" });
  const returnPart = el(
    "div",
    { class: "kp-code-return", hidden: "" },
    t("label", "code_word_label", { for: "kp-code-word" }),
    t("p", "code_word_hint", { id: "kp-code-word-hint", class: "kp-code-hint" }),
    word,
    el("p", { class: "kp-check" }, fresh, t("label", "code_no_history", { for: "kp-code-fresh" })),
    t("p", "code_no_history_hint", { id: "kp-code-fresh-hint", class: "kp-code-hint" }),
  );
  const panel = el(
    "div",
    { id: "kp-code-panel", class: "kp-code-panel", hidden: "" },
    t("label", "code_label", { for: "kp-code-input" }),
    t("p", "code_hint", { id: "kp-code-hint", class: "kp-code-hint" }),
    input,
    returnPart,
  );
  /** The typed words, when the field holds a return code and return codes are on. */
  const words = (): string[] | null =>
    returnCodes && !panel.hidden && normaliseCode(input.value) === null ? returnCodeWords(input.value) : null;
  input.addEventListener("input", () => {
    returnPart.hidden = words() === null;
  });
  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  });
  // Enter in a field is the same as pressing Start (in the code field only when no word is asked).
  for (const field of [input, word]) {
    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      if (field === input && words() !== null) word.focus();
      else on.start();
    });
  }
  return {
    element: el("div", { class: "kp-code" }, toggle, panel),
    value: () => (panel.hidden || words() !== null ? null : typedCode(input.value)),
    returnCode: () => {
      const found = words();
      const second = word.value.trim();
      return found && second ? { words: found, word: second, history: !fresh.checked } : null;
    },
    clear: (code) => {
      word.value = "";
      fresh.checked = false;
      if (code && words() !== null) {
        input.value = "";
        returnPart.hidden = true;
      }
    },
    again: () => {
      panel.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      returnPart.hidden = words() === null;
      (returnPart.hidden ? input : word).focus();
    },
  };
}
