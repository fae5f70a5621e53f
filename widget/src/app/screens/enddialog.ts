/**
 * "Do you want to end the chat?": a modal dialog that starts on the safe choice. A modal dialog
 * makes the rest of the page inert, so it carries its own quick exit.
 */
import { el, t } from "../ui";

export interface EndDialog {
  dialog: HTMLDialogElement;
  open(): void;
}

export function endDialog(
  quickExitUrl: string,
  on: { confirm(): void; cancel(): void; quickExit(): void },
): EndDialog {
  const yes = t("button", "end_confirm_yes", { type: "button", class: "kp-danger-button" });
  const no = t("button", "end_confirm_no", { type: "button", class: "kp-secondary" });
  const exit = t("a", "quick_exit", {
    href: quickExitUrl,
    rel: "noreferrer",
    target: "_top",
    class: "kp-quick-exit kp-quick-exit--dialog",
  });
  const dialog = el(
    "dialog",
    { "aria-labelledby": "kp-end-h", "aria-describedby": "kp-end-p" },
    exit,
    t("h2", "end_confirm_heading", { id: "kp-end-h" }),
    t("p", "end_confirm_text", { id: "kp-end-p" }),
    el("div", { class: "kp-actions" }, no, yes),
  );
  exit.addEventListener("click", (event) => {
    event.preventDefault();
    on.quickExit();
  });
  no.addEventListener("click", () => {
    dialog.close();
    on.cancel();
  });
  yes.addEventListener("click", () => {
    dialog.close();
    on.confirm();
  });
  return {
    dialog,
    open() {
      dialog.showModal();
      no.focus();
    },
  };
}
