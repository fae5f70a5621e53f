// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WidgetConfig } from "../../src/app/config";
import type { HostLink } from "../../src/app/host";
import { PROTOCOL } from "../../src/shared/protocol";
import type { SessionModule } from "../../src/app/session/types";
import { CONFIG, deferred, dialogs, fakeSessionModule, SESSION, stubFetch, visible, pickLanguage, type Call } from "./dom";

/** A fresh app (and a fresh quickexit module: its "exiting" flag lives per page load). */
interface Options {
  config?: Partial<WidgetConfig>;
  host?: HostLink;
  open?: () => Promise<void>;
  outreach?: { invite: string | null; campaign: string | null };
  loadSession?: () => Promise<SessionModule>;
}

async function makeApp(over: Options = {}) {
  vi.resetModules();
  const { ChatApp } = await import("../../src/app/app");
  const { hostLink } = await import("../../src/app/host");
  document.documentElement.className = "";
  document.body.replaceChildren();
  const root = document.createElement("main");
  document.body.append(root);
  const fake = fakeSessionModule(over.open);
  const replace = vi.fn();
  const reload = vi.fn();
  const app = new ChatApp({
    config: { ...CONFIG, ...over.config },
    root,
    minimisable: false,
    outreach: over.outreach ?? { invite: null, campaign: null },
    host: over.host ?? hostLink(null, null),
    replace,
    reload,
    loadSession: over.loadSession ?? (async () => fake.module),
  });
  return { app, root, fake, replace, reload };
}

type App = Awaited<ReturnType<typeof makeApp>>;

async function started(over: Options = {}): Promise<App> {
  const made = await makeApp(over);
  await made.app.start();
  // A message in the case room, so that "wiped" can be seen.
  made.fake.opened[0]?.callbacks.message(SESSION.room_id, { key: "$1", from: "staff", name: null, body: "geheim 7731", state: "ok", prompt: null, status: null, notice: false });
  expect(document.body.textContent).toContain("geheim 7731");
  return made;
}

function expectWiped(made: App): void {
  const state = made.app.state;
  expect(state.session).toBeNull();
  expect(state.credentials).toBeNull();
  expect(state.active).toBe(false);
  expect(made.fake.session.stop).toHaveBeenCalledTimes(1);
  expect(made.app.conversations.all).toEqual([]);
  expect(document.body.textContent).not.toContain("geheim 7731");
}

const ends = (calls: Call[]) => calls.filter((c) => c.url.endsWith("/sessions/end"));
const logouts = (calls: Call[]) => calls.filter((c) => c.url.endsWith("/_matrix/client/v3/logout"));

let calls: Call[];
beforeEach(() => {
  dialogs();
  calls = stubFetch();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("starting", () => {
  it("asks for a session in the page's language, shows the case room and opens the encrypted session", async () => {
    const { app, root, fake } = await started();
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "widget" });
    expect(fake.module.warmUp).toHaveBeenCalled();
    expect(fake.opened).toHaveLength(1);
    expect(fake.opened[0]).toMatchObject({ info: SESSION, language: "nl", names: { bot: "Keerpunt", staff: "Hulpverlener" } });
    expect(app.state).toMatchObject({ credentials: SESSION, active: true, session: fake.session });
    expect(visible(root)?.classList.contains("kp-chat")).toBe(true);
    expect(app.conversations.all.map((c) => [c.room, c.kind])).toEqual([[SESSION.room_id, "case"]]);
    expect(root.classList.contains("kp-ready")).toBe(true);
    expect(document.activeElement?.id).toBe("kp-input");
    expect(app.leaveWarning()).toBe("Als je deze pagina sluit, is het gesprek weg.");
  });

  it("sends an outreach code (in its canonical form) and campaign with the start request", async () => {
    const { app } = await makeApp({ outreach: { invite: "kx7m 3p9q aw4d", campaign: "geldezel" } });
    await app.start();
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "outreach", invite: "KX7M-3P9Q-AW4D", campaign: "geldezel" });
  });

  it("says so when it is busy, keeping nothing", async () => {
    calls = stubFetch({ sessions: () => new Response("{}", { status: 429, headers: { "Retry-After": "60" } }) });
    const { app, root, fake } = await makeApp();
    await app.start();
    expect(visible(root)?.textContent).toContain("Het is nu erg druk.");
    expect(fake.opened).toEqual([]);
    expect(app.state).toEqual({ session: null, credentials: null, active: false });
  });

  it("ends an account it got while the chat is closed at once, and says when the chat opens", async () => {
    const opensAt = "2030-01-07T09:00:00+01:00";
    calls = stubFetch({ sessions: () => Response.json({ ...SESSION, open: false, opens_at: opensAt }, { status: 201 }) });
    const { app, root, fake } = await makeApp();
    await app.start();
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "ended" }, true]]);
    expect(logouts(calls)).toEqual([]);
    expect(fake.opened).toEqual([]);
    expect(app.state.credentials).toBeNull();
    expect(visible(root)?.textContent).toContain("De chat gaat weer open op");
    expect(visible(root)?.textContent).toContain("09:00");
  });

  it("tears down a session that could not start, ends its account and says it did not work", async () => {
    const { app, root, fake } = await makeApp({ open: async () => Promise.reject(new Error("no recipient device is signed by its owner")) });
    await app.start();
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "ended" }, true]]);
    expect(app.state).toEqual({ session: null, credentials: null, active: false });
    expect(app.conversations.all).toEqual([]);
    expect(fake.session.stop).not.toHaveBeenCalled(); // open() stops its own half-started client
    expect(visible(root)?.textContent).toContain("Het lukt nu niet om de chat te starten.");
  });

  it("shows no warning from a failed start when the visitor tries again", async () => {
    let attempt = 0;
    const made = await makeApp({
      open: async () => {
        attempt += 1;
        if (attempt > 1) return;
        made.fake.opened[0]?.callbacks.untrusted(SESSION.room_id); // nobody could read us…
        throw new Error("no recipient device is signed by its owner"); // …so the start failed
      },
    });
    await made.app.start();
    expect(visible(made.root)?.textContent).toContain("Het lukt nu niet om de chat te starten.");
    const retry = visible(made.root)?.querySelector<HTMLButtonElement>("button.kp-primary");
    retry?.click();
    await vi.waitFor(() => expect(made.fake.opened).toHaveLength(2));
    await vi.waitFor(() => expect(made.root.classList.contains("kp-ready")).toBe(true));
    expect(visible(made.root)?.classList.contains("kp-chat")).toBe(true);
    expect(document.querySelector<HTMLElement>(".kp-banner")?.hidden).toBe(true);
  });

  it("says the browser cannot do it when the SDK does not load", async () => {
    const { app, root } = await makeApp({ loadSession: async () => Promise.reject(new Error("no wasm")) });
    await app.start();
    expect(visible(root)?.textContent).toContain("Je browser kan deze beveiligde chat niet openen.");
  });
});

describe("loading the SDK and crypto before the start", () => {
  it("loads nothing until the visitor acts, once on the pointer going down on Start, and the start reuses it", async () => {
    const module = fakeSessionModule().module;
    const loadSession = vi.fn(async () => module);
    const { app, root } = await makeApp({ loadSession });
    expect(loadSession).not.toHaveBeenCalled();
    const startButton = root.querySelector<HTMLButtonElement>("button.kp-primary");
    startButton?.dispatchEvent(new Event("pointerdown"));
    startButton?.dispatchEvent(new Event("pointerdown"));
    expect(loadSession).toHaveBeenCalledTimes(1);
    await app.start();
    expect(loadSession).toHaveBeenCalledTimes(1);
  });

  it("tries again at the start when the early load failed", async () => {
    const module = fakeSessionModule().module;
    const loadSession = vi.fn().mockRejectedValueOnce(new Error("offline")).mockResolvedValue(module);
    const { app } = await makeApp({ loadSession });
    await app.warm().catch(() => undefined);
    await app.start();
    expect(loadSession).toHaveBeenCalledTimes(2);
    expect(app.state.active).toBe(true);
  });
});

describe("a chat that got an account but could not start", () => {
  for (const [what, over, text] of [
    ["the SDK does not load", { loadSession: async () => Promise.reject(new Error("no wasm")) }, "Je browser kan deze beveiligde chat niet openen."],
    ["the homeserver is not the configured one", { config: { homeserver: "https://other.test" } }, "Het lukt nu niet om de chat te starten."],
  ] as const) {
    it(`ends that account when ${what}, and 'Try again' starts afresh with one account at a time`, async () => {
      const { app, root, fake } = await makeApp(over);
      await app.start();
      expect(visible(root)?.textContent).toContain(text);
      expect(ends(calls).map((c) => [c.body, c.init.keepalive, c.init.headers])).toEqual([
        [{ reason: "ended" }, true, { Authorization: "Bearer secret-token", "Content-Type": "application/json" }],
      ]);
      expect(fake.opened).toEqual([]);
      expect(app.state).toEqual({ session: null, credentials: null, active: false });
      expect(app.leaveWarning()).toBeNull();
      visible(root)?.querySelector<HTMLButtonElement>("button.kp-primary")?.click(); // "Try again"
      await vi.waitFor(() => expect(ends(calls)).toHaveLength(2));
      expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions", "/api/v1/sessions/end", "/api/v1/sessions", "/api/v1/sessions/end"]);
      expect(app.state).toEqual({ session: null, credentials: null, active: false });
    });
  }
});

describe("leaving while the chat is still starting", () => {
  it("quick exit during the start request leaves at once; the account that arrives later is ended and never opened", async () => {
    const answer = deferred<Response>();
    calls = stubFetch({ sessions: () => answer.promise });
    const made = await makeApp();
    const starting = made.app.start();
    made.app.exit();
    expect(made.replace).toHaveBeenCalledWith("https://weer.test/"); // not held up by the start
    expect(made.root.children).toHaveLength(0);
    answer.resolve(Response.json(SESSION, { status: 201 }));
    await starting;
    expect(ends(calls).map((c) => [c.body, c.init.keepalive, c.init.headers])).toEqual([
      [{ reason: "quick_exit" }, true, { Authorization: "Bearer secret-token", "Content-Type": "application/json" }],
    ]);
    expect(made.fake.opened).toEqual([]);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    expect(made.root.children).toHaveLength(0); // nothing was shown again
    expect(made.app.conversations.all).toEqual([]);
  });

  it("ends an account the closed chat hands out after a quick exit as a quick exit", async () => {
    const answer = deferred<Response>();
    calls = stubFetch({ sessions: () => answer.promise });
    const made = await makeApp();
    const starting = made.app.start();
    made.app.exit();
    answer.resolve(Response.json({ ...SESSION, open: false, opens_at: null }, { status: 201 }));
    await starting;
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "quick_exit" }, true]]);
    expect(made.root.children).toHaveLength(0);
  });

  it("the page going away during the start request ends the account that arrives later", async () => {
    const answer = deferred<Response>();
    calls = stubFetch({ sessions: () => answer.promise });
    const made = await makeApp();
    const starting = made.app.start();
    made.app.pageHidden();
    answer.resolve(Response.json(SESSION, { status: 201 }));
    await starting;
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "quick_exit" }, true]]);
    expect(made.fake.opened).toEqual([]);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    expect(visible(made.root)?.classList.contains("kp-chat")).not.toBe(true);
  });

  it("the page going away while the SDK loads ends the account once and opens nothing", async () => {
    const loaded = deferred<void>();
    let module: SessionModule | null = null;
    const made = await makeApp({ loadSession: () => loaded.promise.then(() => module as SessionModule) });
    module = made.fake.module;
    const starting = made.app.start();
    await vi.waitFor(() => expect(made.app.state.credentials).toEqual(SESSION));
    made.app.pageHidden();
    loaded.resolve();
    await starting;
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "quick_exit" }, true]]);
    expect(made.fake.opened).toEqual([]);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
  });

  it("quick exit while the session opens: its set-up is told to stop, and a session that opens anyway is stopped, never shown", async () => {
    const opening = deferred<void>();
    const made = await makeApp({ open: () => opening.promise });
    const starting = made.app.start();
    await vi.waitFor(() => expect(made.fake.opened).toHaveLength(1));
    const signal = made.fake.opened[0]?.signal;
    expect(signal?.aborted).toBe(false);
    made.app.exit();
    expect(signal?.aborted).toBe(true);
    opening.resolve(); // this fake opens anyway
    await starting;
    expect(made.fake.session.stop).toHaveBeenCalledTimes(1);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    expect(made.root.classList.contains("kp-ready")).toBe(false);
    expect(made.root.children).toHaveLength(0);
    // Quick exit itself ended the account it knew: no second end request, and (it succeeded) no logout.
    await vi.waitFor(() => expect(made.replace).toHaveBeenCalledWith("https://weer.test/"));
    expect(ends(calls).map((c) => c.body)).toEqual([{ reason: "quick_exit" }]);
    expect(logouts(calls)).toHaveLength(0);
  });

  it("the page going away while the session opens ends the account, and a set-up that fails afterwards shows no error", async () => {
    const opening = deferred<void>();
    const made = await makeApp({ open: () => opening.promise });
    const starting = made.app.start();
    await vi.waitFor(() => expect(made.fake.opened).toHaveLength(1));
    made.app.pageHidden();
    expect(made.fake.opened[0]?.signal?.aborted).toBe(true);
    opening.reject(new DOMException("aborted", "AbortError"));
    await starting;
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "quick_exit" }, true]]);
    expect(visible(made.root)?.textContent).not.toContain("Het lukt nu niet om de chat te starten.");
    expect(console.warn).not.toHaveBeenCalled();
  });

  it("'End chat' while the session still opens: the chat ends, and the session that opens is stopped", async () => {
    const opening = deferred<void>();
    const made = await makeApp({ open: () => opening.promise });
    const starting = made.app.start();
    await vi.waitFor(() => expect(made.fake.opened).toHaveLength(1));
    await made.app.end();
    expect(made.fake.opened[0]?.signal?.aborted).toBe(true);
    opening.resolve();
    await starting;
    expect(made.fake.session.stop).toHaveBeenCalledTimes(1);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    expect(visible(made.root)?.querySelector("h1")?.textContent).toBe("Het gesprek is gestopt");
    expect(ends(calls)).toHaveLength(1);
  });

  it("a second press on Start while the first is under way makes no second account", async () => {
    const answer = deferred<Response>();
    calls = stubFetch({ sessions: () => answer.promise });
    const made = await makeApp();
    const first = made.app.start();
    const second = made.app.start();
    answer.resolve(Response.json(SESSION, { status: 201 }));
    await Promise.all([first, second]);
    expect(calls.filter((c) => c.url.endsWith("/sessions"))).toHaveLength(1);
    expect(made.fake.opened).toHaveLength(1);
  });
});

describe("every way a conversation ends goes through one teardown", () => {
  it("'End chat': the end request is answered first, then everything is dropped and 'ended' shows", async () => {
    const made = await started();
    let answer: (r: Response) => void = () => undefined;
    calls = stubFetch({ end: () => new Promise((r) => (answer = r)) });
    made.app.view.chat.endButton.click();
    const yes = [...document.querySelectorAll("dialog button")].find((b) => b.textContent === "Ja, stoppen") as HTMLButtonElement;
    yes.click();
    await Promise.resolve();
    expect(made.app.state.credentials).not.toBeNull(); // not before the bots answered
    answer(new Response(null, { status: 204 }));
    await vi.waitFor(() => expect(made.app.state.credentials).toBeNull());
    expectWiped(made);
    expect(ends(calls).map((c) => [c.body, c.init.keepalive])).toEqual([[{ reason: "ended" }, false]]);
    expect(logouts(calls)).toEqual([]);
    expect(visible(made.root)?.querySelector("h1")?.textContent).toBe("Het gesprek is gestopt");
    expect(document.activeElement?.textContent).toBe("Het gesprek is gestopt");
  });

  it("'End chat' logs the device out when the end request fails", async () => {
    const made = await started();
    calls = stubFetch({ end: async () => new Response(null, { status: 500 }) });
    await made.app.end();
    expect(logouts(calls).map((c) => [c.init.headers, c.init.keepalive])).toEqual([[{ Authorization: "Bearer secret-token" }, true]]);
    expectWiped(made);
  });

  it("the other side ending the chat wipes it and shows 'ended' without asking anything", async () => {
    const made = await started();
    calls = stubFetch();
    made.fake.opened[0]?.callbacks.ended();
    expectWiped(made);
    expect(calls).toEqual([]);
    expect(visible(made.root)?.querySelector("h1")?.textContent).toBe("Het gesprek is gestopt");
  });

  it("the page going away sends only the end request (keepalive, as a quick exit) and drops everything", async () => {
    const made = await started();
    calls = stubFetch();
    made.app.pageHidden();
    expectWiped(made);
    expect(ends(calls).map((c) => [c.body, c.init.keepalive, c.init.headers])).toEqual([
      [{ reason: "quick_exit" }, true, { Authorization: "Bearer secret-token", "Content-Type": "application/json" }],
    ]);
    expect(logouts(calls)).toEqual([]); // a logout could beat the end request to the bots
    made.app.pageHidden();
    expect(ends(calls)).toHaveLength(1);
  });

  it("the page going away before any chat does nothing", async () => {
    const made = await makeApp();
    made.app.pageHidden();
    expect(calls).toEqual([]);
  });

  it("quick exit covers the page before anything else, wipes it all, ends (no logout racing it) and leaves", async () => {
    const made = await started();
    calls = stubFetch();
    const coveredAtStop: boolean[] = [];
    made.fake.session.stop.mockImplementation(() => {
      coveredAtStop.push(!made.app.screens.cover.hidden && document.documentElement.classList.contains("kp-exiting"));
    });
    made.app.exit();
    expect(coveredAtStop).toEqual([true]);
    expectWiped(made);
    expect(made.root.children).toHaveLength(0); // nothing of the chat left in the DOM
    expect(made.app.screens.cover.isConnected && !made.app.screens.cover.hidden).toBe(true);
    expect(made.app.leaveWarning()).toBeNull(); // no "leave this page?" can hold it up
    expect(made.replace).toHaveBeenCalledWith("https://weer.test/"); // at once, not after the answer
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end"]);
    expect(ends(calls)[0]?.body).toEqual({ reason: "quick_exit" });
    expect(calls.every((c) => c.init.keepalive === true && c.init.referrerPolicy === "no-referrer")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the end request answered 204
    expect(logouts(calls)).toEqual([]);
    made.app.exit();
    made.app.pageHidden();
    expect(calls).toHaveLength(1); // once is enough
    expect(made.replace).toHaveBeenCalledTimes(1);
  });

  it("quick exit inside a host page asks the host to leave, naming its origin, and leaves the frame only as a fallback", async () => {
    const parent = { postMessage: vi.fn() };
    const { hostLink } = await import("../../src/app/host");
    const made = await started({ host: hostLink(parent, "https://partner.test") });
    vi.useFakeTimers();
    made.app.exit();
    await vi.advanceTimersByTimeAsync(500);
    expect(parent.postMessage).toHaveBeenCalledWith({ protocol: PROTOCOL, action: "quick-exit", url: "https://weer.test/" }, "https://partner.test");
    expect(made.replace).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1500);
    expect(made.replace).toHaveBeenCalledWith("https://weer.test/");
    expectWiped(made);
  });

  it("quick exit before any chat just leaves, asking nothing", async () => {
    const made = await makeApp();
    made.app.exit();
    expect(calls).toEqual([]);
    expect(made.replace).toHaveBeenCalledWith("https://weer.test/");
  });
});

describe("chatting", () => {
  it("sends the composer's text to the conversation shown, hiding the banner and stopping 'typing'", async () => {
    const made = await started();
    const chat = made.app.view.chat;
    chat.showBanner("untrusted");
    chat.input.value = "  hoi  ";
    chat.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(made.fake.session.send).toHaveBeenCalledWith(SESSION.room_id, "hoi", undefined);
    expect(made.fake.session.typing).toHaveBeenCalledWith(SESSION.room_id, false);
    expect(chat.input.value).toBe("");
    expect(document.querySelector<HTMLElement>(".kp-banner")?.hidden).toBe(true);
  });

  it("sends a prompt's answer to the prompt's room as a structured reply, and closes the question", async () => {
    const made = await started();
    const prompt = { id: "audience", options: [{ id: "self", label: "Voor mezelf" }, { id: "other", label: "Voor een ander" }] };
    made.fake.opened[0]?.callbacks.message(SESSION.room_id, { key: "$p", from: "bot", name: "Keerpunt", body: "Voor wie?", state: "ok", prompt, status: null, notice: true });
    const buttons = [...document.querySelectorAll<HTMLButtonElement>(".kp-option")];
    buttons[0]?.click();
    expect(made.fake.session.send).toHaveBeenCalledWith(SESSION.room_id, "Voor mezelf", { prompt: "audience", option: "self" });
    expect(buttons.every((b) => b.disabled)).toBe(true);
    expect(document.activeElement?.id).toBe("kp-input");
  });

  it("retries a failed message through the session", async () => {
    const made = await started();
    made.fake.opened[0]?.callbacks.message(SESSION.room_id, { key: "kp.2", from: "me", name: null, body: "x", state: "ok", prompt: null, status: "failed", notice: false });
    document.querySelector<HTMLButtonElement>(".kp-retry")?.click();
    expect(made.fake.session.retry).toHaveBeenCalledWith("kp.2");
  });

  it("says 'typing' once while the visitor types, and stops after three quiet seconds", async () => {
    const made = await started();
    vi.useFakeTimers();
    const input = made.app.view.chat.input;
    input.dispatchEvent(new Event("input"));
    input.dispatchEvent(new Event("input"));
    expect(made.fake.session.typing.mock.calls).toEqual([[SESSION.room_id, true]]);
    vi.advanceTimersByTime(3000);
    expect(made.fake.session.typing.mock.calls).toEqual([[SESSION.room_id, true], [SESSION.room_id, false]]);
  });

  it("asks before leaving only while a chat is going on", async () => {
    const made = await makeApp();
    expect(made.app.leaveWarning()).toBeNull();
    await made.app.start();
    expect(made.app.leaveWarning()).not.toBeNull();
    await made.app.end();
    expect(made.app.leaveWarning()).toBeNull();
  });
});

describe("the header", () => {
  it("switches the language of every text, the hours included", async () => {
    const made = await makeApp();
    pickLanguage(made.app.screens, "en");
    expect(document.documentElement.lang).toBe("en");
    expect(visible(made.root)?.querySelector("h1")?.textContent).toBe("Talk anonymously to a counsellor");
    expect(document.querySelector(".kp-hours")?.textContent).toBe("When is someone there? Mon–Fri 09:00–21:00.");
    await made.app.start();
    expect(calls[0]?.body).toMatchObject({ language: "en" });
  });

  it("asks the host page to minimise the chat, naming the host's origin", async () => {
    vi.resetModules();
    const { ChatApp } = await import("../../src/app/app");
    const parent = { postMessage: vi.fn() };
    const { hostLink } = await import("../../src/app/host");
    const root = document.createElement("main");
    document.body.replaceChildren(root);
    const app = new ChatApp({ config: CONFIG, root, minimisable: true, outreach: { invite: null, campaign: null }, host: hostLink(parent, "https://partner.test"), replace: vi.fn(), reload: vi.fn() });
    app.screens.minimiseButton?.click();
    expect(parent.postMessage).toHaveBeenCalledWith({ protocol: PROTOCOL, action: "minimise" }, "https://partner.test");
  });
});
