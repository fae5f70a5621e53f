// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Call = { url: string; init: RequestInit };

describe("quickExit", () => {
  let calls: Call[];
  let resolveEnd: (() => void) | null;

  beforeEach(() => {
    vi.resetModules();
    vi.useFakeTimers();
    calls = [];
    resolveEnd = null;
    vi.stubGlobal("fetch", (url: string, init: RequestInit) => {
      calls.push({ url, init });
      if (url.endsWith("/sessions/end")) return new Promise<Response>((r) => (resolveEnd = () => r(new Response(null, { status: 204 }))));
      return Promise.resolve(new Response(null, { status: 200 }));
    });
    localStorage.setItem("x", "1");
    sessionStorage.setItem("y", "2");
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  function context(steps: string[], embedded = false) {
    return {
      url: "https://weer.test/",
      api: "/api/v1",
      cover: () => steps.push("cover"),
      credentials: () => ({ homeserver: "https://hs.test", token: "tok" }),
      wipe: () => steps.push("wipe"),
      leaveTop: () => {
        steps.push("leaveTop");
        return embedded;
      },
      replace: (url: string) => steps.push(`replace ${url}`),
    };
  }

  it("covers and wipes at once, ends the session before logging out, then leaves", async () => {
    const { quickExit } = await import("../src/app/quickexit");
    const steps: string[] = [];
    quickExit(context(steps));
    expect(steps).toEqual(["cover", "wipe"]);
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end"]);
    expect(calls[0]?.init.keepalive).toBe(true);
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ reason: "quick_exit" });
    resolveEnd?.();
    await vi.runAllTimersAsync();
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end", "https://hs.test/_matrix/client/v3/logout"]);
    expect(calls[1]?.init.keepalive).toBe(true);
    expect(steps).toEqual(["cover", "wipe", "leaveTop", "replace https://weer.test/"]);
  });

  it("does not wait for a slow end request longer than END_WAIT_MS", async () => {
    const { quickExit, END_WAIT_MS } = await import("../src/app/quickexit");
    const steps: string[] = [];
    quickExit(context(steps));
    await vi.advanceTimersByTimeAsync(END_WAIT_MS);
    expect(steps.at(-1)).toBe("replace https://weer.test/");
    expect(calls).toHaveLength(2);
    resolveEnd?.();
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(2); // leaving happens once
  });

  it("lets the embedding page leave, and leaves the frame itself only as a fallback", async () => {
    const { quickExit } = await import("../src/app/quickexit");
    const steps: string[] = [];
    quickExit(context(steps, true));
    resolveEnd?.();
    await vi.advanceTimersByTimeAsync(10);
    expect(steps).toEqual(["cover", "wipe", "leaveTop"]);
    await vi.advanceTimersByTimeAsync(1500);
    expect(steps.at(-1)).toBe("replace https://weer.test/");
  });
});
