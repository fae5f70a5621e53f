/**
 * The chat app's entry (in the iframe, or as a full page at /chat/), and the only module with
 * side effects on import: it reads the page's config, makes the app (app.ts) and wires the
 * page's events. This entry is small; the Matrix SDK and Rust crypto load only when the visitor
 * presses "Start" (session.ts).
 */
import "./styles.css";
import { PROTOCOL } from "../shared/protocol";
import { ChatApp } from "./app";
import { readConfig } from "./config";
import { hostLink } from "./host";
import { ShiftCounter } from "./keys";
import { takeOutreach } from "./outreach";
import { el } from "./ui";

const config = readConfig(document);
const embedded = window.parent !== window && config.host !== null;
// Inline in a page made for the chat there is nothing to minimise to.
const inline = new URLSearchParams(location.search).get("embed") === "inline";
const root = document.getElementById("kp-app") ?? document.body.appendChild(el("main", { id: "kp-app" }));
const host = hostLink(embedded ? window.parent : null, config.host);
const app = new ChatApp({
  config,
  root,
  minimisable: embedded && !inline,
  host,
  // Outreach links carry a code; read it once and drop it from the address bar and history entry.
  outreach: takeOutreach(location, (url) => history.replaceState(null, "", url)),
  replace: (url) => location.replace(url),
  reload: () => location.reload(),
});

// Quick exit: the page's own link (first Tab stop, works without JavaScript) and Shift three times.
const exitLink = document.getElementById("kp-quick-exit");
exitLink?.addEventListener("click", (event) => {
  event.preventDefault();
  app.exit();
});
const shift = new ShiftCounter(() => app.exit());
window.addEventListener("keydown", (e) => shift.keydown(e), true);
window.addEventListener("keyup", (e) => shift.keyup(e), true);

window.addEventListener("beforeunload", (event) => {
  const warning = app.leaveWarning();
  if (warning === null) return;
  event.preventDefault();
  event.returnValue = warning;
});
// Whatever way the page goes (tab closed, host navigated away), the conversation goes with it.
window.addEventListener("pagehide", () => app.pageHidden());
// Restored from the back/forward cache: the conversation ended on pagehide; start afresh.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});

// The host page opened the chat: focus the composer or the shown screen's heading.
window.addEventListener("message", (event) => {
  if (host.read(event)?.action !== "focus") return;
  const visible = [...app.screens.screens.values()].find((s) => !s.hidden);
  (visible?.querySelector<HTMLElement>("textarea, h1, h2") ?? exitLink)?.focus();
});

// Opened by the visitor from the launcher (embed.ts sets warm=1 only then): the SDK and crypto
// load now, while the visitor reads the start screen.
if (new URLSearchParams(location.search).get("warm") === "1") void app.warm().catch(() => undefined);

performance.mark("kp-screen"); // for bench/first_contact.py: the start screen is on the page
host.post({ protocol: PROTOCOL, action: "ready" });
