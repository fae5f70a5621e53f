/**
 * The long-wait offer in a live chat (docs/write-later.md): once the estimated wait reaches
 * `async.offer_after_minutes`, or the visitor has waited that long with nobody there, "Schrijf
 * nu, we antwoorden later" shows under the queue line. Taking it opens the return-code dialog;
 * the chat goes on and everything written stays. Without write-later nothing shows.
 */
import type { QueueInfo } from "../content";
import { answerBy } from "../returncode/later";
import { el, t, type Screens } from "../ui";

export interface LaterOffer {
  element: HTMLElement;
  /** The queue line changed: `info` while waiting, null when not (a counsellor joined, reset). */
  waiting(info: QueueInfo | null): void;
}

export function laterOffer(
  screens: Screens,
  config: { afterMinutes: number; answerHours: number } | null,
  take: () => void,
): LaterOffer {
  const element = el("div", { class: "kp-later-offer", hidden: "" });
  if (!config) return { element, waiting: () => undefined };
  const text = el("p", {});
  const button = t("button", "write_later_button", { type: "button", class: "kp-secondary" });
  element.append(text, button);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let taken = false;
  const show = (): void => {
    if (taken) return;
    screens.setText(text, "write_later_wait", { when: answerBy(Date.now(), config.answerHours, screens.lang) ?? "" });
    element.hidden = false;
  };
  button.addEventListener("click", () => {
    taken = true;
    element.hidden = true;
    take();
  });
  return {
    element,
    waiting(info) {
      if (info === null) {
        clearTimeout(timer);
        timer = undefined;
        element.hidden = true;
        return;
      }
      if (info.minutes !== null && info.minutes >= config.afterMinutes) show();
      else if (timer === undefined) timer = setTimeout(show, config.afterMinutes * 60_000);
    },
  };
}
