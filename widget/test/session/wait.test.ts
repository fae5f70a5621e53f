import { describe, expect, it } from "vitest";
import { unlessAborted, until } from "../../src/app/session/wait";

describe("until", () => {
  it("resolves once the check holds", async () => {
    let ready = false;
    setTimeout(() => (ready = true), 60);
    await until(() => ready, "ready");
    expect(ready).toBe(true);
  });

  it("rejects after the limit, naming what it waited for", async () => {
    await expect(until(() => false, "the room", 60)).rejects.toThrow("timed out waiting for the room");
  });

  it("rejects as soon as the signal is aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 60);
    const started = Date.now();
    await expect(until(() => false, "the room", 10000, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("unlessAborted", () => {
  it("gives the work's own result while not aborted", async () => {
    const controller = new AbortController();
    await expect(unlessAborted(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(unlessAborted(Promise.reject(new Error("boom")), controller.signal)).rejects.toThrow("boom");
    await expect(unlessAborted(Promise.resolve(8))).resolves.toBe(8);
  });

  it("rejects at once on abort, without waiting for work that never ends", async () => {
    const controller = new AbortController();
    const pending = unlessAborted(new Promise<never>(() => undefined), controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    const already = new AbortController();
    already.abort();
    await expect(unlessAborted(Promise.reject(new Error("ignored")), already.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
});
