// @vitest-environment jsdom
// Write now, answered later (docs/write-later.md): the closed screen's offer, the start that
// leaves a message, the long-wait offer in a live chat, the end that leaves the message, and
// the promise of an answer. The derivation is replaced by a fixed one; fetch is stubbed.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatApp } from "../../src/app/app";
import { readConfig } from "../../src/app/config";
import { hostLink } from "../../src/app/host";
import { answerBy } from "../../src/app/returncode/later";
import { CONFIG, dialogs, fakeSessionModule, SESSION, visible, type Call } from "../app/dom";

vi.mock("../../src/app/returncode/derive", async (original) => ({
  ...(await original<typeof import("../../src/app/returncode/derive")>()),
  derive: vi.fn(async (words: string[], word: string) => ({
    lookup: `L:${words.join("-")}`,
    verifier: `V:${word}`,
    login: `P:${word}`,
    storageKey: async () => new Uint8Array(32).fill(7),
  })),
}));

const PART = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
const OPENS = "2026-12-08T09:00:00+01:00";
const LATER = { afterMinutes: 15, answerHours: 24 };

function stub(closedFirst: boolean): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    // No proof of work asked (test/challenge.test.ts has it), and not recorded.
    if (url.endsWith("/sessions/challenge")) return Response.json({ challenge: null, level: null });
    const body = init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : null;
    calls.push({ url, init, body });
    if (url.endsWith("/sessions")) {
      if (closedFirst && body?.later !== true) return Response.json({ open: false, opens_at: OPENS, later: true });
      return Response.json({ ...SESSION, open: true, ...(closedFirst ? { later: true } : {}) }, { status: 201 });
    }
    if (url.endsWith("/sessions/code")) return Response.json({ key: PART });
    if (url.endsWith("/sessions/end")) return new Response(null, { status: 204 });
    return new Response("{}", { status: 200 });
  });
  return calls;
}

function makeApp(later: typeof LATER | null = LATER) {
  document.body.replaceChildren();
  const root = document.createElement("main");
  document.body.append(root);
  const fake = fakeSessionModule();
  const config = { ...CONFIG, returnCode: { days: 14, tries: 3 }, later };
  const app = new ChatApp({
    config,
    root,
    minimisable: false,
    outreach: { invite: null, campaign: null },
    host: hostLink(null, null),
    replace: vi.fn(),
    reload: vi.fn(),
    loadSession: async () => fake.module,
  });
  return { app, root, fake };
}

async function makeCode(root: HTMLElement, fromDialogStep = true): Promise<void> {
  if (fromDialogStep) root.querySelector<HTMLButtonElement>("dialog.kp-later button.kp-primary")?.click();
  const input = root.querySelector<HTMLInputElement>("#kp-later-word") as HTMLInputElement;
  input.value = "zonnig";
  input.form?.dispatchEvent(new Event("submit", { cancelable: true }));
  await vi.waitFor(() => expect(root.querySelector("#kp-later-code")?.textContent).toMatch(/^[a-z]+(-[a-z]+){3}$/));
}

const offerButton = (root: HTMLElement, where: string) =>
  [...root.querySelectorAll<HTMLButtonElement>(`${where} button`)].find((b) => b.textContent === "Schrijf nu, we antwoorden later");

let calls: Call[];
beforeEach(() => {
  dialogs();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("write now, answered later", () => {
  it("reads its numbers from the page only together with return codes", () => {
    const page = (json: object) => {
      document.body.innerHTML = `<script type="application/json" id="keerpunt-config">${JSON.stringify(json)}</script>`;
      return readConfig(document);
    };
    const codes = { return_code: true, return_code_days: 14, return_code_tries: 3 };
    expect(page({ ...codes, later_after_minutes: 15, later_answer_hours: 24 }).later).toEqual(LATER);
    expect(page({ ...codes }).later).toBeNull();
    expect(page({ later_after_minutes: 15, later_answer_hours: 24 }).later).toBeNull();
  });

  it("promises the next opening plus the hours, in plain words", () => {
    expect(answerBy(Date.parse(OPENS), 24, "nl")).toBe("woensdag 9 december om 09:00");
    expect(answerBy(Date.parse(OPENS), 24, "en")).toContain("Wednesday 9 December");
    expect(answerBy(null, 24, "nl")).toBeNull();
  });

  it("offers it beside the emergency numbers when closed, starts a session for it and ends it as 'later'", async () => {
    calls = stub(true);
    const { app, root, fake } = makeApp();
    await app.start();
    const closed = visible(root);
    expect(closed?.textContent).toContain("Ben je nu in gevaar? Bel 112.");
    expect(closed?.textContent).toContain("antwoordt waarschijnlijk vóór woensdag 9 december om 09:00");
    offerButton(root, ".kp-screen")?.click();
    await vi.waitFor(() => expect(fake.opened).toHaveLength(1));
    expect(calls.filter((c) => c.url.endsWith("/sessions")).map((c) => c.body?.later)).toEqual([undefined, true]);
    expect(visible(root)?.classList.contains("kp-chat")).toBe(true);
    root.querySelector<HTMLButtonElement>("button.kp-later-button")?.click();
    await makeCode(root);
    await app.end();
    expect(calls.find((c) => c.url.endsWith("/sessions/end"))?.body).toEqual({ reason: "later" });
    expect(visible(root)?.textContent).toContain("Je bericht is bewaard. Een hulpverlener antwoordt waarschijnlijk vóór woensdag 9 december om 09:00.");
  });

  it("says on the start screen, while closed, that a message can be left", () => {
    document.body.replaceChildren();
    const root = document.createElement("main");
    document.body.append(root);
    const closedNow = { ...CONFIG, openNow: false, opensAt: OPENS, returnCode: { days: 14, tries: 3 } };
    const make = (later: typeof LATER | null) =>
      new ChatApp({
        config: { ...closedNow, later },
        root,
        minimisable: false,
        outreach: { invite: null, campaign: null },
        host: hostLink(null, null),
        replace: vi.fn(),
        reload: vi.fn(),
        loadSession: async () => fakeSessionModule().module,
      });
    make(LATER);
    expect(root.querySelector(".kp-closed-now")?.textContent).toContain("je kunt dan een bericht schrijven");
    make(null);
    expect(root.querySelector(".kp-closed-now")?.textContent).not.toContain("bericht");
  });

  it("says nothing about it when it is off, and a code then ends the chat as before", async () => {
    calls = stub(true);
    const { app, root } = makeApp(null);
    await app.start();
    expect(offerButton(root, ".kp-screen")).toBeUndefined();
    expect(root.textContent).not.toContain("we antwoorden later");
  });

  it("offers the switch in a live chat once the estimated wait passes the minutes; taking it keeps the chat", async () => {
    calls = stub(false);
    const { app, root, fake } = makeApp();
    await app.start();
    const callbacks = fake.opened[0]?.callbacks;
    callbacks?.message(SESSION.room_id, { key: "m1", from: "visitor", body: "Hallo", time: Date.now() } as never);
    callbacks?.queue({ position: 3, minutes: 10 });
    const offer = root.querySelector<HTMLElement>(".kp-later-offer");
    expect(offer?.hidden).toBe(true);
    callbacks?.queue({ position: 3, minutes: 20 });
    expect(offer?.hidden).toBe(false);
    expect(offer?.textContent).toContain("Alles wat je al schreef blijft staan.");
    offerButton(root, ".kp-later-offer")?.click();
    expect(root.querySelector<HTMLDialogElement>("dialog.kp-later")?.open).toBe(true);
    await makeCode(root);
    expect(app.state.active).toBe(true); // the chat goes on
    await app.end();
    expect(calls.find((c) => c.url.endsWith("/sessions/end"))?.body).toEqual({ reason: "later" });
    expect(visible(root)?.textContent).toContain("Je bericht is bewaard.");
  });

  it("offers it after the minutes of waiting with nobody there, and not once a counsellor joined", async () => {
    calls = stub(false);
    const { app, root, fake } = makeApp();
    await app.start();
    vi.useFakeTimers();
    const callbacks = fake.opened[0]?.callbacks;
    callbacks?.queue({ position: 1, minutes: 5 });
    const offer = root.querySelector<HTMLElement>(".kp-later-offer");
    vi.advanceTimersByTime(14 * 60_000);
    expect(offer?.hidden).toBe(true);
    vi.advanceTimersByTime(2 * 60_000);
    expect(offer?.hidden).toBe(false);
    callbacks?.memberJoined(SESSION.room_id);
    expect(offer?.hidden).toBe(true);
  });

  it("ends a plain chat with a code as 'ended' (dormant), not as a message for later", async () => {
    calls = stub(false);
    const { app, root } = makeApp();
    await app.start();
    root.querySelector<HTMLButtonElement>("button.kp-later-button")?.click();
    await makeCode(root);
    await app.end();
    expect(calls.find((c) => c.url.endsWith("/sessions/end"))?.body).toEqual({ reason: "ended" });
    expect(visible(root)?.textContent).toContain("Met je code en je geheime woord kun je later terugkomen.");
  });
});
