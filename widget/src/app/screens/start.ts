/** The first screen: what the chat is, when someone is there, and the button that starts it. */
import { formatOpening } from "../hours";
import type { Language } from "../i18n";
import { el, t, type Screens } from "../ui";
import { codeEntry, type ReturnEntry } from "./code";

export interface StartConfig {
  /** The weekly opening hours as text, per language (from the portal). */
  hours: Partial<Record<Language, string>>;
  openNow: boolean;
  opensAt: string | null;
  /** Write now, answered later is on: the closed line says a message can be left (docs/write-later.md). */
  later?: unknown;
}

export interface StartScreen {
  section: HTMLElement;
  /** Show the hours and, when closed now, when the chat opens: again after a language switch. */
  refresh(): void;
  /** The outreach code typed under "I have a code", if any. */
  code(): string | null;
  /** A return code typed there, with its second word, if any. */
  returnCode(): ReturnEntry | null;
  /** Forget the second word typed; `code`: a return code too. */
  clearCode(code: boolean): void;
  /** Back to the code fields after a refused return. */
  codeAgain(): void;
}

export function startScreen(
  screens: Screens,
  config: StartConfig,
  on: { start(): void; warm(): void },
  returnCodes = false,
): StartScreen {
  const startButton = t("button", "start_button", { type: "button", class: "kp-primary" });
  const hoursLine = el("p", { class: "kp-hours" });
  const closedNowLine = el("p", { class: "kp-closed-now", hidden: "" });
  const code = codeEntry(on, returnCodes);
  // The first screen on a small phone (issue 29): what the chat is, that it is anonymous, how to
  // leave fast, and Start. The rest comes below the button, where a scroll finds it.
  const section = el(
    "section",
    { "aria-labelledby": "kp-start-h", class: "kp-start" },
    t("h1", "start_heading", { id: "kp-start-h", tabindex: "-1" }),
    el(
      "ul",
      { class: "kp-facts" },
      t("li", "start_who"),
      t("li", "start_anonymous"),
      // Which of the two shows is the stylesheet's choice (pointer: coarse): no Shift key on a phone.
      t("li", "start_quick_exit", { class: "kp-keys-only" }),
      t("li", "start_quick_exit_touch", { class: "kp-touch-only" }),
    ),
    startButton,
    // Closed now: pressing Start still works and says when the chat opens (and whom to call).
    closedNowLine,
    t("p", "danger", { class: "kp-danger" }),
    // After the main action: most visitors have no code, and Tab reaches Start first.
    code.element,
    el(
      "div",
      { class: "kp-more" },
      t("h2", "start_more_heading"),
      el("ul", {}, t("li", "start_expertise"), t("li", "start_encrypted"), t("li", "start_traces")),
      hoursLine,
    ),
  );
  startButton.addEventListener("click", () => on.start());
  // The pointer goes down some 100 ms before the click: the SDK and crypto can start loading.
  startButton.addEventListener("pointerdown", () => on.warm());

  function refresh(): void {
    const hours = config.hours[screens.lang];
    hoursLine.hidden = !hours;
    if (hours) screens.setText(hoursLine, "start_hours", { hours });
    const when = config.openNow ? null : formatOpening(config.opensAt, screens.lang);
    closedNowLine.hidden = !when;
    if (when) screens.setText(closedNowLine, config.later ? "closed_now_later" : "closed_now", { when });
  }

  return { section, refresh, code: code.value, returnCode: code.returnCode, clearCode: code.clear, codeAgain: code.again };
}
