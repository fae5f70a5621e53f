/**
 * The chat app (in the iframe, or as a full page at /chat/). This entry is small: the start
 * screen, quick exit and the language switch. The Matrix SDK and Rust crypto load only when the
 * visitor presses "Start" (see session.ts).
 */
import "./styles.css";
import { endSession, logout, startSession, type SessionInfo, type StartRequest } from "./api";
import { readConfig } from "./config";
import { translate, type Language } from "./i18n";
import { ShiftCounter } from "./keys";
import { isExiting, quickExit } from "./quickexit";
import { Conversations } from "./conversations";
import { el, Screens, t } from "./ui";
import type { ChatSession, SessionCallbacks } from "./session";
import { PROTOCOL, parseHostMessage, type AppToHost } from "../shared/protocol";

const config = readConfig(document);
const embedded = window.parent !== window && config.host !== null;
const root = document.getElementById("kp-app") ?? document.body.appendChild(el("main", { id: "kp-app" }));
root.replaceChildren();
// Inline in a page made for the chat there is nothing to minimise to.
const inline = new URLSearchParams(location.search).get("embed") === "inline";
const screens = new Screens(root, config.language, embedded && !inline);

// Outreach links carry a code; read it once and drop it from the address bar and history entry.
const params = new URLSearchParams(location.search);
const invite = params.get("invite");
const campaign = params.get("campaign");
if (invite || campaign) {
  params.delete("invite");
  params.delete("campaign");
  history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
}

let session: ChatSession | null = null;
let credentials: SessionInfo | null = null;
let active = false;

function postToHost(message: AppToHost): boolean {
  if (!embedded || !config.host) return false;
  window.parent.postMessage(message, config.host);
  return true;
}

// ---- quick exit ---------------------------------------------------------------------------
const exitLink = document.getElementById("kp-quick-exit");

function exitNow(): void {
  quickExit({
    url: config.quickExitUrl,
    api: config.api,
    cover: () => {
      screens.cover.hidden = false;
      document.documentElement.classList.add("kp-exiting");
    },
    credentials: () => (credentials ? { homeserver: credentials.homeserver, token: credentials.access_token } : null),
    wipe: () => {
      active = false;
      session?.stop();
      session = null;
      credentials = null;
      conversations.clear();
      root.replaceChildren();
    },
    leaveTop: (url) => postToHost({ protocol: PROTOCOL, action: "quick-exit", url }),
    replace: (url) => location.replace(url),
  });
}

exitLink?.addEventListener("click", (event) => {
  event.preventDefault();
  exitNow();
});
const shift = new ShiftCounter(exitNow);
window.addEventListener("keydown", (e) => shift.keydown(e), true);
window.addEventListener("keyup", (e) => shift.keyup(e), true);

window.addEventListener("beforeunload", (event) => {
  if (!active || isExiting()) return;
  event.preventDefault();
  event.returnValue = translate(screens.lang, "leave_warning");
});
// Whatever way the page goes (tab closed, host navigated away), the conversation goes with it.
window.addEventListener("pagehide", () => {
  if (credentials && !isExiting()) leaveQuietly("quick_exit");
});
// Restored from the back/forward cache: the conversation ended on pagehide; start afresh.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});

window.addEventListener("message", (event) => {
  const message = parseHostMessage(event, config.host, embedded ? window.parent : null);
  if (message?.action === "focus") {
    const visible = [...screens.screens.values()].find((s) => !s.hidden);
    (visible?.querySelector<HTMLElement>("textarea, h1, h2") ?? exitLink)?.focus();
  }
});

// ---- screens --------------------------------------------------------------------------------
const startButton = t("button", "start_button", { type: "button", class: "kp-primary" });
const hoursLine = el("p", { class: "kp-hours" });
const closedNowLine = el("p", { class: "kp-closed-now", hidden: "" });
screens.add(
  "start",
  el(
    "section",
    { "aria-labelledby": "kp-start-h" },
    t("h1", "start_heading", { id: "kp-start-h", tabindex: "-1" }),
    el(
      "ul",
      { class: "kp-facts" },
      t("li", "start_who"),
      t("li", "start_anonymous"),
      t("li", "start_encrypted"),
      t("li", "start_quick_exit"),
      t("li", "start_traces"),
    ),
    hoursLine,
    closedNowLine,
    startButton,
    t("p", "danger", { class: "kp-danger" }),
  ),
);

screens.add(
  "connecting",
  el(
    "section",
    { role: "status" },
    t("h1", "connecting", { tabindex: "-1" }),
    el("div", { class: "kp-spinner", "aria-hidden": "true" }),
  ),
);

const closedText = el("p", {});
const portalLink = t("a", "closed_portal", { href: config.portalUrl, target: "_top" });
screens.add(
  "closed",
  el(
    "section",
    {},
    t("h1", "closed_heading", { tabindex: "-1" }),
    closedText,
    t("p", "danger", { class: "kp-danger" }),
    el("p", {}, portalLink),
  ),
);

const errorText = el("p", { tabindex: "-1", class: "kp-error-text" });
const retryButton = t("button", "retry", { type: "button", class: "kp-primary" });
screens.add("error", el("section", { role: "alert" }, errorText, retryButton, t("p", "danger", { class: "kp-danger" })));

// The chat.
const banner = el("p", { class: "kp-banner", role: "status", hidden: "" });
const queueLine = el("p", { class: "kp-queue", role: "status" });
const typingLine = el("p", { class: "kp-typing", "aria-hidden": "true" });
const input = el("textarea", {
  id: "kp-input",
  rows: "2",
  maxlength: "4000",
  autocomplete: "off",
  autocorrect: "off",
  autocapitalize: "off",
  spellcheck: "false",
  enterkeyhint: "send",
});
const sendButton = t("button", "send", { type: "submit", class: "kp-primary" });
const form = el(
  "form",
  { class: "kp-composer" },
  t("label", "composer_label", { for: "kp-input", class: "kp-visually-hidden" }),
  input,
  sendButton,
);
const endButton = t("button", "end_button", { type: "button", class: "kp-secondary" });
const dialogYes = t("button", "end_confirm_yes", { type: "button", class: "kp-danger-button" });
const dialogNo = t("button", "end_confirm_no", { type: "button", class: "kp-secondary" });
// A modal dialog makes the rest of the page inert, so it carries its own quick exit.
const dialogExit = t("a", "quick_exit", {
  href: config.quickExitUrl,
  rel: "noreferrer",
  target: "_top",
  class: "kp-quick-exit kp-quick-exit--dialog",
});
dialogExit.addEventListener("click", (event) => {
  event.preventDefault();
  exitNow();
});
const dialog = el(
  "dialog",
  { "aria-labelledby": "kp-end-h", "aria-describedby": "kp-end-p" },
  dialogExit,
  t("h2", "end_confirm_heading", { id: "kp-end-h" }),
  t("p", "end_confirm_text", { id: "kp-end-p" }),
  el("div", { class: "kp-actions" }, dialogNo, dialogYes),
);

// The case room, and beside it the handover room once the bot has made one (conversations.ts).
const conversations = new Conversations(screens, {
  option: (room, prompt, option, label, group) => {
    for (const b of group.querySelectorAll("button")) b.disabled = true;
    input.focus();
    void sendText(room, label, { prompt, option });
  },
  retry: (key) => {
    void session?.retry(key).catch(() => undefined);
  },
  switched: () => followActive(),
});
screens.add(
  "chat",
  el(
    "section",
    { class: "kp-chat", "aria-labelledby": "kp-chat-h" },
    t("h1", "chat_heading", { id: "kp-chat-h", tabindex: "-1", class: "kp-visually-hidden" }),
    banner,
    conversations.tablist,
    queueLine,
    conversations.panels,
    typingLine,
    form,
    el("div", { class: "kp-chat-actions" }, endButton),
    conversations.announcer,
    dialog,
  ),
);

const newChatButton = t("button", "new_chat", { type: "button", class: "kp-primary" });
screens.add(
  "ended",
  el("section", {}, t("h1", "ended_heading", { tabindex: "-1" }), t("p", "ended_text"), newChatButton),
);

root.append(screens.header, ...screens.screens.values());
document.body.append(screens.cover);
screens.apply(config.language);
showHours();
screens.show("start", false);

function showHours(): void {
  const hours = config.hours[screens.lang];
  hoursLine.hidden = !hours;
  if (hours) screens.setText(hoursLine, "start_hours", { hours });
  const when = config.openNow ? null : formatOpening(config.opensAt);
  closedNowLine.hidden = !when;
  if (when) screens.setText(closedNowLine, "closed_now", { when });
}

screens.langButton.addEventListener("click", () => {
  const next: Language = screens.lang === "nl" ? "en" : "nl";
  screens.apply(next);
  showHours();
});
screens.minimiseButton?.addEventListener("click", () => postToHost({ protocol: PROTOCOL, action: "minimise" }));

// ---- starting -------------------------------------------------------------------------------
function showError(key: "error_busy" | "error_start" | "error_browser"): void {
  screens.setText(errorText, key);
  screens.show("error", errorText);
}

function formatOpening(iso: string | null): string | null {
  if (!iso) return null;
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return null;
  return new Intl.DateTimeFormat(screens.lang === "nl" ? "nl-NL" : "en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Europe/Amsterdam",
  }).format(when);
}

/** The composer, the queue line and the typing line follow the conversation that is shown. */
function followActive(): void {
  const shown = conversations.active;
  const closed = shown?.closed ?? false;
  input.disabled = closed;
  sendButton.disabled = closed;
  queueLine.hidden = shown !== undefined && shown.kind !== "case";
  const who = shown?.typing[0];
  if (who) screens.setText(typingLine, "typing", { who });
  else typingLine.textContent = "";
}

const callbacks: SessionCallbacks = {
  message: (room, view) => conversations.message(room, view),
  remove: (room, key) => conversations.get(room)?.list.remove(key),
  memberJoined: (room) => {
    queueLine.textContent = "";
    conversations.system(room, "counsellor_joined");
  },
  memberLeft: (room) => conversations.system(room, "counsellor_left"),
  typing: (room, names) => {
    const conversation = conversations.get(room);
    if (!conversation) return;
    conversation.typing = names;
    if (conversation === conversations.active) followActive();
  },
  connection: (ok) => {
    banner.hidden = false;
    screens.setText(banner, ok ? "connection_back" : "connection_lost");
    if (ok) setTimeout(() => (banner.hidden = true), 4000);
  },
  queue: (info) => {
    const parts: string[] = [];
    if (info.position !== null) parts.push(translate(screens.lang, "queue_position", { position: info.position }));
    if (info.minutes !== null) parts.push(translate(screens.lang, "queue_wait", { minutes: info.minutes }));
    queueLine.textContent = parts.join(" ");
  },
  untrusted: () => {
    banner.hidden = false;
    screens.setText(banner, "untrusted");
  },
  closed: (room) => {
    const conversation = conversations.get(room);
    if (!conversation || conversation.closed) return;
    conversation.closed = true;
    if (conversation.kind !== "case") conversations.system(room, "conversation_closed");
    if (conversation !== conversations.active) return;
    followActive();
    endButton.focus();
  },
  ended: () => finish(),
  handover: (room) => {
    const caseRoom = credentials?.room_id;
    conversations.open(room, "handover");
    conversations.system(room, "handover_started");
    if (caseRoom) conversations.system(caseRoom, "handover_case_line");
    conversations.activate(room);
  },
  partner: (room, name) => conversations.setPartner(room, name),
  reopenPrompt: (room, prompt) => conversations.get(room)?.list.reopen(prompt),
};

async function start(): Promise<void> {
  performance.mark("kp-start"); // for bench/widget.py: where the time to the greeting goes
  screens.show("connecting");
  const request: StartRequest = { language: screens.lang, entry: invite ? "outreach" : "widget" };
  if (invite) request.invite = invite.slice(0, 128);
  if (campaign) request.campaign = campaign.slice(0, 64);
  // Load the SDK while the API creates the account and the room.
  const loading = import("./session").then((m) => {
    m.warmUp();
    return m;
  });
  loading.catch(() => undefined);
  const result = await startSession(config.api, request);
  performance.mark("kp-api");
  if (result.kind === "busy") return showError("error_busy");
  if (result.kind === "failed") return showError("error_start");
  if (result.kind === "closed") {
    if (result.session) {
      credentials = result.session;
      leaveQuietly("ended"); // no chat now: do not leave an account behind
    }
    const when = formatOpening(result.opensAt);
    if (when) screens.setText(closedText, "closed_text", { when });
    else screens.setText(closedText, "closed_unknown");
    return screens.show("closed");
  }
  credentials = result.session;
  active = true;
  if (config.homeserver && result.session.homeserver !== config.homeserver) {
    // The page's CSP only allows the configured homeserver; anything else cannot work.
    return showError("error_start");
  }
  let module: typeof import("./session");
  try {
    module = await loading;
  } catch {
    return showError("error_browser");
  }
  conversations.clear();
  conversations.open(result.session.room_id, "case");
  followActive();
  screens.show("chat", null);
  try {
    session = await module.ChatSession.open(result.session, screens.lang, callbacks, {
      bot: translate(screens.lang, "bot"),
      staff: translate(screens.lang, "counsellor"),
    });
  } catch (error) {
    // Also when nobody in the room could read us (UntrustedError): there is no chat to keep.
    console.warn("keerpunt: the chat could not start:", error instanceof Error ? error.message : error);
    leaveQuietly("ended");
    return showError("error_start");
  }
  if (isExiting()) return;
  root.classList.add("kp-ready");
  input.focus();
}

startButton.addEventListener("click", () => void start());
retryButton.addEventListener("click", () => void start());
newChatButton.addEventListener("click", () => location.reload());

// ---- chatting -------------------------------------------------------------------------------
let typingTimer: ReturnType<typeof setTimeout> | null = null;

async function sendText(room: string, body: string, reply?: { prompt: string; option: string }): Promise<void> {
  if (!session) return;
  banner.hidden = true;
  session.typing(room, false);
  try {
    await session.send(room, body, reply);
  } catch {
    /* the message shows as not sent, with a retry button */
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value.trim();
  const room = conversations.active?.room;
  if (!body || !session || !room) return;
  input.value = "";
  void sendText(room, body);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
let typingIn: string | null = null;
input.addEventListener("input", () => {
  const room = conversations.active?.room;
  if (!session || !room) return;
  if (typingIn && typingIn !== room) session.typing(typingIn, false);
  if (!typingTimer || typingIn !== room) session.typing(room, true);
  typingIn = room;
  if (typingTimer) clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    typingTimer = null;
    if (typingIn) session?.typing(typingIn, false);
    typingIn = null;
  }, 3000);
});

// ---- ending ---------------------------------------------------------------------------------
endButton.addEventListener("click", () => {
  dialog.showModal();
  dialogNo.focus();
});
dialogNo.addEventListener("click", () => {
  dialog.close();
  endButton.focus();
});
dialogYes.addEventListener("click", () => {
  dialog.close();
  void endChat();
});

async function endChat(): Promise<void> {
  const creds = credentials;
  if (creds) {
    try {
      const response = await endSession(config.api, creds.access_token, "ended", false);
      if (!response.ok) throw new Error(String(response.status));
    } catch {
      await logout(creds.homeserver, creds.access_token).catch(() => undefined);
    }
  }
  finish();
}

/**
 * Leave without waiting: the page goes away (tab closed, host page navigated, the portal's own
 * quick exit removed the frame) or a start failed half-way. Only the end request: a logout sent
 * at the same moment could beat it and leave the bots unable to find the case; ending
 * deactivates the account, which revokes the token anyway.
 */
function leaveQuietly(reason: "ended" | "quick_exit"): void {
  const creds = credentials;
  if (!creds) return;
  credentials = null;
  active = false;
  endSession(config.api, creds.access_token, reason, true).catch(() => undefined);
  session?.stop();
  session = null;
  conversations.clear();
}

function finish(): void {
  active = false;
  input.disabled = false;
  sendButton.disabled = false;
  credentials = null;
  session?.stop();
  session = null;
  conversations.clear();
  queueLine.textContent = "";
  queueLine.hidden = false;
  typingLine.textContent = "";
  banner.hidden = true;
  screens.show("ended");
}

postToHost({ protocol: PROTOCOL, action: "ready" });
