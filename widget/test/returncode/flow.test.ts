// @vitest-environment jsdom
// The return-code flow in the app (returncode/flow.ts): coming back with a code, and making one.
// The derivation is replaced by a fixed one (its own tests are in returncode.test.ts); the API
// and the homeserver are a stubbed fetch, the session a fake module.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatApp } from "../../src/app/app";
import { hostLink } from "../../src/app/host";
import { CONFIG, dialogs, fakeSessionModule, SESSION, visible, type Call } from "../app/dom";

const ssssKeys: Uint8Array[] = [];
const parts: (Uint8Array | null)[] = [];
vi.mock("../../src/app/returncode/derive", async (original) => ({
  ...(await original<typeof import("../../src/app/returncode/derive")>()),
  derive: vi.fn(async (words: string[], word: string) => ({
    lookup: `L:${words.join("-")}`,
    verifier: `V:${word}`,
    login: `P:${word}`,
    storageKey: async (part: Uint8Array | null) => {
      parts.push(part === null ? null : part.slice());
      const ssss = new Uint8Array(32).fill(7);
      ssssKeys.push(ssss);
      return ssss;
    },
  })),
}));

// The bots' part of the 4S key, as /sessions/code and /sessions/return answer it (base64url).
const PART = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
const BACK = { homeserver: "https://hs.test", user_id: SESSION.user_id, room_id: SESSION.room_id, bot: SESSION.bot, case: "4821", days: 30, key: PART };

interface Answers {
  back?: () => Response;
  login?: () => Response;
  code?: () => Response;
}

function stub(answers: Answers = {}): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    // No proof of work asked (test/challenge.test.ts has it), and not recorded.
    if (url.endsWith("/sessions/challenge")) return Response.json({ challenge: null, level: null });
    calls.push({ url, init, body: init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : null });
    if (url.endsWith("/sessions")) return Response.json(SESSION, { status: 201 });
    if (url.endsWith("/sessions/return")) return answers.back?.() ?? Response.json(BACK);
    if (url.endsWith("/_matrix/client/v3/login")) return answers.login?.() ?? Response.json({ access_token: "new-token", device_id: "DEV2" });
    if (url.endsWith("/sessions/code")) return answers.code?.() ?? Response.json({ key: PART });
    if (url.endsWith("/sessions/end")) return new Response(null, { status: 204 });
    return new Response("{}", { status: 200 });
  });
  return calls;
}

function makeApp(open?: () => Promise<void>) {
  document.body.replaceChildren();
  const root = document.createElement("main");
  document.body.append(root);
  const fake = fakeSessionModule(open);
  const app = new ChatApp({
    config: { ...CONFIG, returnCode: { days: 30, tries: 3 } },
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

/** Type a return code and its second word under "I have a code" and press Start. */
async function comeBack(made: ReturnType<typeof makeApp>, { history = true } = {}): Promise<void> {
  const q = <T extends HTMLElement>(selector: string) => made.root.querySelector<T>(selector) as T;
  q<HTMLButtonElement>("button.kp-code-toggle").click();
  const input = q<HTMLInputElement>("#kp-code-input");
  input.value = "appel boom kaas deur";
  input.dispatchEvent(new Event("input"));
  q<HTMLInputElement>("#kp-code-word").value = "zonnig";
  q<HTMLInputElement>("#kp-code-fresh").checked = !history;
  await made.app.start();
}

const lines = (root: HTMLElement) => [...root.querySelectorAll(".kp-log li")].map((li) => li.textContent ?? "");
const urls = (calls: Call[]) => calls.map((c) => c.url);

let calls: Call[];
beforeEach(() => {
  dialogs();
  ssssKeys.length = 0;
  parts.length = 0;
  calls = stub();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("coming back with a code", () => {
  it("asks the bots, logs in with the login secret, restores the history, and rotates the code", async () => {
    const made = makeApp();
    await comeBack(made);
    const { app, root, fake } = made;
    expect(calls[0]).toMatchObject({ url: "/api/v1/sessions/return", body: { lookup: "L:appel-boom-kaas-deur", verifier: "V:zonnig" } });
    expect(calls[1]?.url).toBe("https://hs.test/_matrix/client/v3/login");
    expect(calls[1]?.body).toMatchObject({ identifier: { user: SESSION.user_id }, password: "P:zonnig" });
    expect(fake.opened).toHaveLength(1);
    expect(fake.opened[0]?.info).toEqual({ ...SESSION, access_token: "new-token", device_id: "DEV2" });
    expect(fake.opened[0]?.returning?.history).toBe(true);
    expect(app.state).toMatchObject({ active: true, session: fake.session });
    expect(visible(root)?.classList.contains("kp-chat")).toBe(true);
    expect(root.classList.contains("kp-ready")).toBe(true);
    expect(document.activeElement?.id).toBe("kp-input");
    // The word typed is gone from the page, and so is the code.
    expect(root.querySelector<HTMLInputElement>("#kp-code-word")?.value).toBe("");
    expect(root.querySelector<HTMLInputElement>("#kp-code-input")?.value).toBe("");
    // The new code: registered with the new token, then shown to the visitor alone.
    await vi.waitFor(() => expect(root.querySelector("#kp-later-code")?.textContent).toMatch(/^[a-z]+(-[a-z]+){3}$/));
    const register = calls.find((c) => c.url.endsWith("/sessions/code"));
    expect(register?.init.headers).toMatchObject({ Authorization: "Bearer new-token" });
    expect(register?.body).toEqual({ lookup: expect.stringMatching(/^L:/), verifier: "V:zonnig", login: "P:zonnig" });
    expect(fake.session.protect).toHaveBeenCalledTimes(1);
    expect(lines(root)).toEqual(["Je eerdere gesprek", "Je bent terug. Je kunt verder praten.", "Je hebt een code. Als je nu stopt, kun je later terugkomen."]);
    expect(root.textContent).toContain("Je oude code werkt niet meer. Dit is je nieuwe code.");
    // Every 4S key derived was wiped once used; each was made with the bots' part.
    expect(ssssKeys).toHaveLength(2);
    for (const key of ssssKeys) expect([...key].every((b) => b === 0)).toBe(true);
    expect(parts).toEqual([new Uint8Array(32).fill(1), new Uint8Array(32).fill(1)]);
  });

  it("comes back with a code made before the bots took part: no part, the 4S key as then", async () => {
    calls = stub({ back: () => Response.json({ ...BACK, key: null }) });
    const made = makeApp();
    await comeBack(made);
    expect(made.fake.opened).toHaveLength(1);
    expect(parts[0]).toBeNull();
  });

  it("without history says so and opens the session without it", async () => {
    const made = makeApp();
    await comeBack(made, { history: false });
    expect(made.fake.opened[0]?.returning?.history).toBe(false);
    await vi.waitFor(() => expect(lines(made.root)).toContain("Je bent terug. Eerdere berichten zie je hier niet."));
    expect(lines(made.root)).not.toContain("Je eerdere gesprek");
  });

  it("shows one text for a refused code, and 'Try again' goes back to the second word", async () => {
    calls = stub({ back: () => new Response("{}", { status: 403 }) });
    const made = makeApp();
    await comeBack(made);
    expect(visible(made.root)?.textContent).toContain("Met deze code en dit woord kunnen we geen gesprek openen.");
    expect(urls(calls)).toEqual(["/api/v1/sessions/return"]);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    visible(made.root)?.querySelector<HTMLButtonElement>("button.kp-primary")?.click();
    expect(visible(made.root)?.getAttribute("aria-labelledby")).toBe("kp-start-h");
    expect(document.activeElement?.id).toBe("kp-code-word");
    expect(urls(calls)).toEqual(["/api/v1/sessions/return"]);
  });

  it("says it is busy when the bots are", async () => {
    calls = stub({ back: () => new Response("{}", { status: 429 }) });
    const made = makeApp();
    await comeBack(made);
    expect(visible(made.root)?.textContent).toContain("Het is nu erg druk.");
  });

  it("tries the login twice, then says the code still works and 'Try again' goes back to it", async () => {
    calls = stub({ login: () => new Response("{}", { status: 403 }) });
    const made = makeApp();
    await comeBack(made);
    expect(urls(calls).filter((u) => u.endsWith("/login"))).toHaveLength(2);
    expect(made.fake.opened).toEqual([]);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    expect(visible(made.root)?.textContent).toContain("Inloggen lukt nu even niet. Je code werkt nog.");
    expect(ssssKeys).toEqual([]); // no 4S key was even made
    visible(made.root)?.querySelector<HTMLButtonElement>("button.kp-primary")?.click();
    expect(document.activeElement?.id).toBe("kp-code-word");
    expect(made.root.querySelector<HTMLInputElement>("#kp-code-input")?.value).toBe("appel boom kaas deur");
  });

  it("sits out a short login limit, then signs in", async () => {
    let first = true;
    calls = stub({
      login: () => {
        if (!first) return Response.json({ access_token: "new-token", device_id: "DEV2" });
        first = false;
        return Response.json({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 20 }, { status: 429 });
      },
    });
    const made = makeApp();
    await comeBack(made);
    expect(urls(calls).filter((u) => u.endsWith("/login"))).toHaveLength(2);
    expect(made.fake.opened).toHaveLength(1);
  });

  it("does not sit out a long login limit: the code still works later", async () => {
    calls = stub({ login: () => Response.json({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 333000 }, { status: 429 }) });
    const made = makeApp();
    await comeBack(made);
    expect(urls(calls).filter((u) => u.endsWith("/login"))).toHaveLength(1);
    expect(visible(made.root)?.textContent).toContain("Je code werkt nog.");
  });

  it("ends the account and wipes the key when the session does not open", async () => {
    const made = makeApp(async () => Promise.reject(new Error("no backup")));
    await comeBack(made);
    expect(visible(made.root)?.textContent).toContain("Het lukt nu niet om de chat te starten.");
    expect(calls.filter((c) => c.url.endsWith("/sessions/end")).map((c) => c.init.headers)).toEqual([
      { Authorization: "Bearer new-token", "Content-Type": "application/json" },
    ]);
    expect(made.app.state).toEqual({ session: null, credentials: null, active: false });
    expect([...(ssssKeys[0] ?? [1])].every((b) => b === 0)).toBe(true);
  });

  it("tells the visitor when the new code cannot be made: the old one is used up", async () => {
    calls = stub({ code: () => new Response("{}", { status: 500 }) });
    const made = makeApp();
    await comeBack(made);
    await vi.waitFor(() => expect(lines(made.root)).toContain(
      "Je oude code werkt niet meer. Het lukte niet om een nieuwe te maken. Wil je later weer terugkomen? Kies dan opnieuw ‘Wil je later verder praten?’.",
    ));
    expect(made.root.querySelector("#kp-later-code")?.textContent).toBe("");
  });
});

describe("making a code in the chat", () => {
  async function later(root: HTMLElement, word: string): Promise<void> {
    root.querySelector<HTMLButtonElement>("button.kp-later-button")?.click();
    root.querySelector<HTMLButtonElement>("dialog.kp-later button.kp-primary")?.click();
    const input = root.querySelector<HTMLInputElement>("#kp-later-word") as HTMLInputElement;
    input.value = word;
    input.form?.dispatchEvent(new Event("submit", { cancelable: true }));
  }

  it("registers the code with the chat's token, shows it, and ending then waits for the key backup", async () => {
    const { app, root, fake } = makeApp();
    await app.start();
    await later(root, "zonnig");
    await vi.waitFor(() => expect(root.querySelector("#kp-later-code")?.textContent).toMatch(/^[a-z]+(-[a-z]+){3}$/));
    const register = calls.find((c) => c.url.endsWith("/sessions/code"));
    expect(register?.init.headers).toMatchObject({ Authorization: "Bearer secret-token" });
    expect(root.textContent).toContain("Schrijf deze code op of onthoud hem.");
    expect(lines(root)).toEqual(["Je hebt een code. Als je nu stopt, kun je later terugkomen."]);
    await app.end();
    expect(fake.session.settle).toHaveBeenCalledTimes(1);
    expect(visible(root)?.textContent).toContain("Met je code en je geheime woord kun je later terugkomen.");
  });

  it("says so on the word step when the code cannot be registered, and ending does not wait", async () => {
    calls = stub({ code: () => new Response("{}", { status: 500 }) });
    const { app, root, fake } = makeApp();
    await app.start();
    await later(root, "zonnig");
    await vi.waitFor(() => expect(root.querySelector(".kp-later-status")?.textContent).toBe("Het lukte niet om een code te maken. Probeer het later nog eens."));
    expect(root.querySelector("#kp-later-code")?.textContent).toBe("");
    expect(lines(root)).toEqual([]);
    await app.end();
    expect(fake.session.settle).not.toHaveBeenCalled();
    expect(visible(root)?.textContent).toContain("Wil je nog eens praten?");
  });
});
