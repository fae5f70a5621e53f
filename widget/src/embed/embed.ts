/**
 * The embed script: one <script src="https://<keerpunt>/widget/embed.js" async> on any page.
 *
 * It adds a launcher button and nothing else. Only when the visitor clicks does it create an
 * iframe with the chat app from the Keerpunt origin (the script's own origin). It listens to a
 * closed set of postMessage actions from that iframe only (origin and window checked).
 * Elements with a `data-keerpunt-chat` attribute (e.g. a link to the chat page) open it too.
 *
 * Outreach: a link `…#invite=CODE` (to the chat page, an article or a campaign page) opens the
 * chat at once, ready to start ("read this, then talk to me"). The code is taken off this page's
 * address bar and history entry before anything else and goes to the chat frame in its URL
 * fragment only, so it never reaches any server. A campaign (this page's `?campaign=`, or the
 * `data-campaign` of a chat button on a campaign page) goes to the frame too.
 */
import * as nl from "../app/locales/nl.json";
import * as en from "../app/locales/en.json";
import * as pl from "../app/locales/pl.json";
import * as ro from "../app/locales/ro.json";
import * as bg from "../app/locales/bg.json";
import * as uk from "../app/locales/uk.json";
import * as ar from "../app/locales/ar.json";
import { PROTOCOL, parseAppMessage, type HostToApp } from "../shared/protocol";

type Texts = { launcher_label: string; launcher_title: string; launcher_close: string };
// Property by property, so the bundle keeps only these three texts of each locale file.
const TEXTS: Record<string, Texts> = {
  nl: { launcher_label: nl.launcher_label, launcher_title: nl.launcher_title, launcher_close: nl.launcher_close },
  en: { launcher_label: en.launcher_label, launcher_title: en.launcher_title, launcher_close: en.launcher_close },
  pl: { launcher_label: pl.launcher_label, launcher_title: pl.launcher_title, launcher_close: pl.launcher_close },
  ro: { launcher_label: ro.launcher_label, launcher_title: ro.launcher_title, launcher_close: ro.launcher_close },
  bg: { launcher_label: bg.launcher_label, launcher_title: bg.launcher_title, launcher_close: bg.launcher_close },
  uk: { launcher_label: uk.launcher_label, launcher_title: uk.launcher_title, launcher_close: uk.launcher_close },
  ar: { launcher_label: ar.launcher_label, launcher_title: ar.launcher_title, launcher_close: ar.launcher_close },
};

function css(el: HTMLElement, rules: Record<string, string>): void {
  // CSSOM assignments are allowed under a strict style-src; style attributes and <style> are not.
  for (const [name, value] of Object.entries(rules)) el.style.setProperty(name, value, "important");
}

/**
 * Take `invite=…` out of this page's fragment: the address bar and the history entry lose it at
 * once (SECURITY.md A), keeping the page's history state and the rest of its address. A code in
 * the query string (a wrong link: it reached a server) is never used, but is removed all the same.
 */
function takeInvite(): string | null {
  const raw = location.hash.slice(1);
  const inFragment = /(^|&)invite=/.test(raw);
  const query = new URLSearchParams(location.search);
  if (!inFragment && !query.has("invite")) return null;
  const invite = inFragment ? new URLSearchParams(raw).get("invite")?.trim() || null : null;
  const others = raw.split("&").filter((part) => part && !part.startsWith("invite="));
  query.delete("invite");
  const url = `${location.pathname}${query.size ? `?${query}` : ""}${others.length ? `#${others.join("&")}` : ""}`;
  try {
    history.replaceState(history.state, "", url);
  } catch {
    // A page that cannot rewrite its own address (a sandboxed frame): the chat still opens.
  }
  return invite;
}

/** The campaign this page belongs to, if any, in the shape of a campaign slug. */
function campaignOf(doc: Document): string | null {
  const wanted =
    new URLSearchParams(location.search).get("campaign") ??
    doc.querySelector<HTMLElement>("[data-campaign]")?.dataset.campaign ??
    null;
  return wanted && /^[a-z0-9-]{1,64}$/.test(wanted) ? wanted : null;
}

function init(script: HTMLScriptElement, invite: string | null): void {
  const src = new URL(script.src, location.href);
  const origin = src.origin;
  const base = new URL("../", src).href; // …/widget/embed.js → the Keerpunt site root
  const wanted = (script.dataset.lang || document.documentElement.lang || "nl").slice(0, 2).toLowerCase();
  const lang = wanted in TEXTS ? wanted : "nl";
  const texts = TEXTS[lang] as Texts;
  const doc = document;
  const campaign = campaignOf(doc);

  const button = doc.createElement("button");
  button.type = "button";
  button.textContent = texts.launcher_label;
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  css(button, {
    position: "fixed",
    right: "16px",
    bottom: "16px",
    "z-index": "2147483000",
    padding: "12px 18px",
    "min-height": "44px",
    border: "2px solid #ffffff",
    "border-radius": "24px",
    background: "#0b4f8a",
    color: "#ffffff",
    font: "600 16px/1.2 system-ui, sans-serif",
    cursor: "pointer",
    "box-shadow": "0 2px 8px rgba(0,0,0,.35)",
  });

  let frame: HTMLIFrameElement | null = null;

  function post(message: HostToApp): void {
    frame?.contentWindow?.postMessage(message, origin);
  }

  function layout(el: HTMLIFrameElement): void {
    const small = window.innerWidth < 520;
    css(el, {
      position: "fixed",
      "z-index": "2147483001",
      border: small ? "0" : "1px solid #5c5c5c",
      "border-radius": small ? "0" : "12px",
      background: "#ffffff",
      right: small ? "0" : "16px",
      bottom: small ? "0" : "16px",
      width: small ? "100vw" : "400px",
      height: small ? "100%" : "min(680px, calc(100vh - 32px))",
      "box-shadow": "0 4px 24px rgba(0,0,0,.35)",
    });
  }

  function makeFrame(inline: boolean, warm: boolean): HTMLIFrameElement {
    const el = doc.createElement("iframe");
    const url = new URL("chat/", base);
    url.searchParams.set("lang", lang);
    url.searchParams.set("embed", inline ? "inline" : "1");
    url.searchParams.set("host", location.origin);
    if (campaign) url.searchParams.set("campaign", campaign);
    // The visitor opened the chat: it may load the SDK and crypto at once (main.ts).
    if (warm) url.searchParams.set("warm", "1");
    // The code only ever in the fragment: the chat page's request carries no trace of it.
    if (invite) url.hash = new URLSearchParams({ invite }).toString();
    invite = null; // one frame gets it: a later frame (after a quick exit, say) starts plain
    el.src = url.href;
    el.title = texts.launcher_title;
    el.setAttribute("referrerpolicy", "no-referrer");
    el.setAttribute("allow", "");
    return el;
  }

  /** Make the (hidden) frame: on the launcher's pointer-down, so it loads before the click lands. */
  function prepare(warm: boolean): void {
    if (frame) return;
    frame = makeFrame(false, warm);
    layout(frame);
    css(frame, { display: "none" });
    doc.body.appendChild(frame);
    window.addEventListener("resize", () => frame && !frame.dataset.inline && layout(frame));
  }

  function open(warm = true): void {
    prepare(warm);
    if (!frame) return;
    frame.hidden = false;
    css(frame, { display: "block" });
    button.hidden = true;
    css(button, { display: "none" });
    button.setAttribute("aria-expanded", "true");
    frame.focus();
    post({ protocol: PROTOCOL, action: "focus" });
  }

  function minimise(): void {
    if (!frame) return;
    css(frame, { display: "none" });
    css(button, { display: "block" });
    button.hidden = false;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  function quickExit(url: string): void {
    // Hide everything at once, leave without a Referer, and replace this history entry.
    const cover = doc.createElement("div");
    css(cover, { position: "fixed", inset: "0", background: "#ffffff", "z-index": "2147483647" });
    doc.documentElement.appendChild(cover);
    const meta = doc.createElement("meta");
    meta.name = "referrer";
    meta.content = "no-referrer";
    doc.head.appendChild(meta);
    location.replace(url);
  }

  window.addEventListener("message", (event) => {
    const message = parseAppMessage(event, origin, frame?.contentWindow);
    if (!message) return;
    if (message.action === "quick-exit") quickExit(message.url);
    else if (message.action === "minimise") minimise();
    // Opened by a click: focus the chat. Inline in a page: leave focus where the visitor is.
    else if (!frame?.dataset.inline) post({ protocol: PROTOCOL, action: "focus" });
  });

  // The portal's own quick exit (quick-exit.js) announces itself just before it leaves: drop the
  // frame at once so its pagehide ends the session and no "leave page?" question can stop the exit.
  window.addEventListener("keerpunt:quick-exit", () => {
    frame?.remove();
    frame = null;
  });

  // A page made for the chat (the portal's chat page) marks where it goes: the chat sits there,
  // in the page, at once (coming to that page was the click), and no launcher is needed.
  const mount = doc.querySelector<HTMLElement>("[data-chat-root]");
  if (mount) {
    frame = makeFrame(true, false);
    frame.dataset.inline = "1";
    // The host page may size it (the portal's chat page makes it the whole phone screen).
    css(frame, {
      display: "block",
      "box-sizing": "border-box",
      width: "100%",
      height: "var(--keerpunt-chat-height, max(480px, 75vh))",
      border: "var(--keerpunt-chat-border, 1px solid #5c5c5c)",
    });
    mount.replaceChildren(frame);
    return;
  }

  button.addEventListener("pointerdown", () => prepare(true));
  button.addEventListener("click", () => open());
  doc.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-keerpunt-chat]") : null;
    if (target) {
      event.preventDefault();
      open();
    }
  });
  doc.body.appendChild(button);
  // Opened by the host page or by an outreach link, not by the visitor: nothing loads early.
  if (script.dataset.open === "true" || invite) open(false);
}

const current = document.currentScript;
const script =
  current instanceof HTMLScriptElement ? current : document.querySelector<HTMLScriptElement>("script[src*='/widget/embed']");
if (script) {
  // The code leaves the address bar now, not when the page has finished loading.
  const invite = takeInvite();
  if (document.body) init(script, invite);
  else document.addEventListener("DOMContentLoaded", () => init(script, invite));
}
