// @vitest-environment jsdom
// "I have a code" on the start screen (screens/code.ts): the typed code goes with the start.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatApp } from "../../src/app/app";
import { hostLink } from "../../src/app/host";
import { CONFIG, dialogs, fakeSessionModule, stubFetch, pickLanguage, type Call } from "./dom";

function makeApp(invite: string | null = null) {
  document.body.replaceChildren();
  const root = document.createElement("main");
  document.body.append(root);
  const fake = fakeSessionModule();
  const app = new ChatApp({
    config: CONFIG,
    root,
    minimisable: false,
    outreach: { invite, campaign: null },
    host: hostLink(null, null),
    replace: vi.fn(),
    reload: vi.fn(),
    loadSession: async () => fake.module,
  });
  const toggle = root.querySelector<HTMLButtonElement>("button.kp-code-toggle") as HTMLButtonElement;
  const input = root.querySelector<HTMLInputElement>("#kp-code-input") as HTMLInputElement;
  return { app, root, toggle, input };
}

let calls: Call[];
beforeEach(() => {
  dialogs();
  calls = stubFetch();
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("I have a code", () => {
  it("is a closed disclosure: a button that opens a labelled field that the phone does not remember", () => {
    const { toggle, input } = makeApp();
    expect(toggle.textContent).toBe("Ik heb een code");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect(document.getElementById(toggle.getAttribute("aria-controls") ?? "")?.hidden).toBe(true);
    toggle.click();
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe(input);
    expect(input.labels?.[0]?.textContent).toBe("Jouw code");
    expect(document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent).toContain("Typ die hier");
    expect(Object.fromEntries(["type", "autocomplete", "autocorrect", "autocapitalize", "spellcheck", "inputmode"].map((a) => [a, input.getAttribute(a)]))).toEqual({
      type: "text",
      autocomplete: "off",
      autocorrect: "off",
      autocapitalize: "characters",
      spellcheck: "false",
      inputmode: "text",
    });
    toggle.click();
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
  });

  it("sends the typed code with Start, as an outreach start", async () => {
    const { root, toggle, input } = makeApp();
    toggle.click();
    input.value = "  kx7m-3p9q-aw4d ";
    root.querySelector<HTMLButtonElement>("button.kp-primary")?.click();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "outreach", invite: "KX7M-3P9Q-AW4D" });
  });

  it("starts with Enter in the field too, and the typed code wins over the link's", async () => {
    const { toggle, input } = makeApp("AAAA-AAAA-AAAA");
    toggle.click();
    input.value = "9999 9999 9999";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "outreach", invite: "9999-9999-9999" });
  });

  it("leaves out what cannot be a code, so the visitor gets the same plain start", async () => {
    const { root, toggle, input } = makeApp();
    toggle.click();
    input.value = "KX7M-3P9Q-AW4"; // one character short
    root.querySelector<HTMLButtonElement>("button.kp-primary")?.click();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "widget" });
  });

  it("sends no code when the field is empty or closed again", async () => {
    const { root, toggle, input } = makeApp();
    toggle.click();
    input.value = "KX7M-3P9Q-AW4D";
    toggle.click();
    root.querySelector<HTMLButtonElement>("button.kp-primary")?.click();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "widget" });
  });

  it("follows a language switch", () => {
    const { app, toggle } = makeApp();
    pickLanguage(app.screens, "en");
    expect(toggle.textContent).toBe("I have a code");
    expect(document.querySelector("label[for=kp-code-input]")?.textContent).toBe("Your code");
  });
});
