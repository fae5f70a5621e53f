/** All six screens of the chat app, built and registered in their order on the page. */
import type { WidgetConfig } from "../config";
import type { Conversations } from "../conversations";
import type { Language } from "../i18n";
import type { Screens } from "../ui";
import { chatScreen, type ChatHandlers, type ChatView } from "./chat";
import {
  closedScreen,
  connectingScreen,
  endedScreen,
  errorScreen,
  type ClosedScreen,
  type EndedScreen,
  type ErrorScreen,
} from "./notices";
import { startScreen, type StartScreen } from "./start";

export interface AppView {
  start: StartScreen;
  closed: ClosedScreen;
  error: ErrorScreen;
  chat: ChatView;
  ended: EndedScreen;
}

export interface ScreenHandlers extends ChatHandlers {
  start(): void;
  /** The visitor is about to start (a pointer went down on "Start"): load what the chat needs. */
  warm(): void;
  /** "Try again" after an error. */
  retry(): void;
  newChat(): void;
}

export function buildScreens(
  screens: Screens,
  conversations: Conversations,
  config: Pick<WidgetConfig, "api" | "hours" | "openNow" | "opensAt" | "portalUrl" | "quickExitUrl" | "returnCode" | "later">,
  on: ScreenHandlers,
): AppView {
  const start = startScreen(screens, config, on, config.returnCode !== null);
  const closed = closedScreen(screens, config.portalUrl, config.later, () => on.writeLater?.());
  const error = errorScreen(screens, on);
  const chat = chatScreen(screens, conversations, config.quickExitUrl, on, config.returnCode, config.later);
  screens.add("start", start.section);
  screens.add("connecting", connectingScreen());
  screens.add("closed", closed.section);
  screens.add("error", error.section);
  screens.add("chat", chat.section);
  const ended = endedScreen(screens, config.api, on, config.later);
  screens.add("ended", ended.section);
  return { start, closed, error, chat, ended };
}

/**
 * Put the app on the page and show the start screen (leaving the focus where it is): the header
 * (unless the page around the chat has its own: `pageHeader`), the screens and the quick exit's
 * cover. The header's language choice switches every text in place; its minimise button (only
 * in the launcher's frame) calls `minimise`.
 */
export function mountScreens(root: HTMLElement, screens: Screens, view: AppView, pageHeader: boolean, minimise: () => void): void {
  root.replaceChildren(...(pageHeader ? [] : [screens.header]), ...screens.screens.values());
  root.ownerDocument.body.append(screens.cover);
  screens.apply(screens.lang);
  view.start.refresh();
  screens.show("start", false);
  screens.onLanguage((next: Language) => {
    screens.apply(next);
    view.start.refresh();
  });
  screens.minimiseButton?.addEventListener("click", minimise);
}
