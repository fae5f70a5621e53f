// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Call = { url: string; init: RequestInit };

describe("quickExit", () => {
  let calls: Call[];
  let answer: (status: number) => void;
  let rejectEnd: () => void;

  beforeEach(() => {
    vi.resetModules();
    vi.useFakeTimers();
    calls = [];
    answer = () => undefined;
    rejectEnd = () => undefined;
    vi.stubGlobal("fetch", (url: string, init: RequestInit) => {
      calls.push({ url, init });
      if (url.endsWith("/sessions/end")) {
        return new Promise<Response>((resolve, reject) => {
          answer = (status) => resolve(new Response(null, { status }));
          rejectEnd = () => reject(new TypeError("Failed to fetch"));
        });
      }
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

  it("covers, wipes and leaves at once, sending only the end request (keepalive) on the way", async () => {
    const { quickExit } = await import("../src/app/quickexit");
    const steps: string[] = [];
    quickExit(context(steps));
    expect(steps).toEqual(["cover", "wipe", "leaveTop", "replace https://weer.test/"]);
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end"]);
    expect(calls[0]?.init.keepalive).toBe(true);
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ reason: "quick_exit" });
  });

  it("never logs out while the end request is on its way, however slow, up to END_WAIT_MS", async () => {
    const { quickExit, END_WAIT_MS } = await import("../src/app/quickexit");
    expect(END_WAIT_MS).toBeGreaterThanOrEqual(2000); // a proxy holding it 2 s must not lose the race
    quickExit(context([]));
    await vi.advanceTimersByTimeAsync(END_WAIT_MS - 1);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end"]);
    answer(204);
    await vi.runAllTimersAsync();
    // The bots ended it: the account is deactivated and its token gone; no logout is needed.
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end"]);
  });

  it("logs out (keepalive) only after the end request failed, as a fallback", async () => {
    for (const fail of [() => answer(500), () => answer(429), () => rejectEnd()]) {
      vi.resetModules();
      calls.length = 0;
      const { quickExit } = await import("../src/app/quickexit");
      quickExit(context([]));
      expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end"]);
      fail();
      await vi.advanceTimersByTimeAsync(0);
      expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end", "https://hs.test/_matrix/client/v3/logout"]);
      expect(calls[1]?.init.keepalive).toBe(true);
      await vi.runAllTimersAsync();
      expect(calls).toHaveLength(2); // once
    }
  });

  it("logs out after END_WAIT_MS when the end request never answers (if the page still runs), once", async () => {
    const { quickExit, END_WAIT_MS } = await import("../src/app/quickexit");
    quickExit(context([]));
    await vi.advanceTimersByTimeAsync(END_WAIT_MS);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/sessions/end", "https://hs.test/_matrix/client/v3/logout"]);
    answer(500);
    await vi.runAllTimersAsync();
    expect(calls).toHaveLength(2);
  });

  it("lets the embedding page leave, and leaves the frame itself only as a fallback", async () => {
    const { quickExit } = await import("../src/app/quickexit");
    const steps: string[] = [];
    quickExit(context(steps, true));
    await vi.advanceTimersByTimeAsync(10);
    expect(steps).toEqual(["cover", "wipe", "leaveTop"]);
    await vi.advanceTimersByTimeAsync(1500);
    expect(steps.at(-1)).toBe("replace https://weer.test/");
  });

  it("without a session just leaves, asking nothing", async () => {
    const { quickExit } = await import("../src/app/quickexit");
    const steps: string[] = [];
    quickExit({ ...context(steps), credentials: () => null });
    expect(steps.at(-1)).toBe("replace https://weer.test/");
    await vi.runAllTimersAsync();
    expect(calls).toEqual([]);
  });
});
