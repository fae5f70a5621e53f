/**
 * "I have a code" on the start screen: for someone who got an outreach code read aloud or on
 * paper instead of a link. A button opens a labelled text field; the code typed there goes with
 * the start request (outreach.ts). Nothing here checks the code: valid or not, the widget looks
 * and behaves the same (the API alone knows, and answers the same either way).
 */
import { typedCode } from "../outreach";
import { el, t } from "../ui";

export interface CodeEntry {
  element: HTMLElement;
  /** The code typed, or null (also while the field is closed). */
  value(): string | null;
}

export function codeEntry(on: { start(): void }): CodeEntry {
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
    maxlength: "32",
    "aria-describedby": "kp-code-hint",
  });
  const panel = el(
    "div",
    { id: "kp-code-panel", class: "kp-code-panel", hidden: "" },
    t("label", "code_label", { for: "kp-code-input" }),
    t("p", "code_hint", { id: "kp-code-hint", class: "kp-code-hint" }),
    input,
  );
  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) input.focus();
  });
  // Enter in the field is the same as pressing Start.
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    on.start();
  });
  return {
    element: el("div", { class: "kp-code" }, toggle, panel),
    value: () => (panel.hidden ? null : typedCode(input.value)),
  };
}
