// @vitest-environment jsdom
import { afterAll, describe, expect, it, vi } from "vitest";
import { stubFetch, visible } from "./dom";

// The SDK is not what this test is about: a stand-in for the lazily loaded session module.
vi.mock("../../src/app/session", () => ({ warmUp: vi.fn(), ChatSession: { open: vi.fn() } }));

// jsdom navigates only within a document: the "neutral site" is this page with a fragment.
const NEUTRAL = `${location.origin}/chat/?lang=nl#weer`;
const CONFIG = { language: "nl", api: "/api/v1", quick_exit_url: NEUTRAL, portal_url: "/nl/", hours: { nl: "ma–vr 09:00–21:00." } };

describe("main.ts, the entry", () => {
  afterAll(() => vi.unstubAllGlobals());

  it("builds the start screen from the page's config, drops an outreach code from the address, and wires Start and Shift (quick exit)", async () => {
    history.replaceState(null, "", "/chat/?lang=nl#invite=KX7M-3P9Q-AW4D");
    document.body.innerHTML =
      '<a class="kp-quick-exit" id="kp-quick-exit" href="https://weer.test/">Snel weg</a>' +
      '<main id="kp-app"><noscript><p>JavaScript nodig.</p></noscript></main>' +
      `<script type="application/json" id="keerpunt-config">${JSON.stringify(CONFIG)}</script>`;
    const calls = stubFetch({ sessions: () => new Response("{}", { status: 429 }) });
    const posted = vi.spyOn(window, "postMessage");

    await import("../../src/app/main");
    const root = document.getElementById("kp-app") as HTMLElement;
    expect(root.querySelector("noscript")).toBeNull();
    expect(visible(root)?.querySelector("h1")?.textContent).toBe("Praat anoniem met een hulpverlener");
    expect(root.querySelector(".kp-hours")?.textContent).toBe("Wanneer is er iemand? ma–vr 09:00–21:00.");
    expect(location.search).toBe("?lang=nl");
    expect(location.href).not.toContain("KX7M");
    expect(posted).not.toHaveBeenCalled(); // not embedded: nobody to tell

    root.querySelector<HTMLButtonElement>("button.kp-primary")?.click();
    await vi.waitFor(() => expect(visible(root)?.getAttribute("role")).toBe("alert"));
    expect(calls[0]?.body).toEqual({ language: "nl", entry: "outreach", invite: "KX7M-3P9Q-AW4D" });

    const entries = history.length;
    for (let i = 0; i < 3; i += 1) {
      window.dispatchEvent(new KeyboardEvent("keydown", { key: "Shift" }));
      window.dispatchEvent(new KeyboardEvent("keyup", { key: "Shift" }));
    }
    expect(document.querySelector<HTMLElement>(".kp-cover")?.hidden).toBe(false);
    expect(document.documentElement.classList.contains("kp-exiting")).toBe(true);
    expect(root.children).toHaveLength(0);
    expect(location.href).toBe(NEUTRAL); // left at once (no chat: nothing to end first)
    expect(history.length).toBe(entries); // by replacing this history entry
  });
});
