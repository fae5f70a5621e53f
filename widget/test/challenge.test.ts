// The proof of work before a start (src/app/challenge/proof.ts): the answer the bots read, a
// start without a challenge, a refused answer solved once more. Solved on the main thread here
// (no Worker in jsdom), with altcha-lib's own challenge maker standing in for the bots.
import { createChallenge } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/web/pbkdf2";
import { afterEach, describe, expect, it, vi } from "vitest";
import { answer, solve, startProven } from "../src/app/challenge/proof";

const SESSION = {
  homeserver: "https://hs.test",
  user_id: "@visitor-a:hs.test",
  access_token: "t",
  device_id: "D",
  room_id: "!r:hs.test",
  bot: "@keerpunt:hs.test",
  case: "1234",
};

async function challenge(counter: number) {
  return createChallenge({
    algorithm: "PBKDF2/SHA-256",
    cost: 10,
    counter,
    deriveKey,
    data: { level: "normal" },
    hmacSignatureSecret: "s",
    hmacKeySignatureSecret: "k",
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("the proof of work", () => {
  it("finds the bots' counter and sends challenge and solution as base64 JSON", async () => {
    const c = await challenge(7);
    const solution = await solve(c, new AbortController().signal);
    expect(solution?.counter).toBe(7);
    const sent = JSON.parse(atob(answer(c, solution!)));
    expect(sent).toEqual({ challenge: c, solution: { counter: 7, derivedKey: solution!.derivedKey } });
  });

  it("starts without an answer when the bots ask for none", async () => {
    const bodies: unknown[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
      if (url.endsWith("/challenge")) return Response.json({ challenge: null, level: null });
      bodies.push(JSON.parse(String(init.body)));
      return Response.json(SESSION, { status: 201 });
    });
    const result = await startProven("/api/v1", { language: "nl", entry: "widget" }, new AbortController().signal);
    expect(result.kind).toBe("started");
    expect(bodies).toEqual([{ language: "nl", entry: "widget" }]);
  });

  it("asks for a new challenge once when the bots refuse the answer, then starts", async () => {
    const answers: string[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
      if (url.endsWith("/challenge")) return Response.json({ challenge: await challenge(3), level: "normal" });
      answers.push(JSON.parse(String(init.body)).challenge);
      if (answers.length === 1) return Response.json({ error: "challenge_invalid" }, { status: 403 });
      return Response.json(SESSION, { status: 201 });
    });
    const slow = vi.fn();
    const result = await startProven("/api/v1", { language: "en", entry: "widget" }, new AbortController().signal, slow);
    expect(result.kind).toBe("started");
    expect(slow).not.toHaveBeenCalled(); // the normal level: nothing to say
    expect(answers).toHaveLength(2);
    expect(answers[0]).not.toBe(answers[1]);
  });

  it("says it takes longer when the level is more than normal", async () => {
    const raised = await createChallenge({
      algorithm: "PBKDF2/SHA-256",
      cost: 10,
      counter: 2,
      deriveKey,
      data: { level: "raised" },
      hmacSignatureSecret: "s",
      hmacKeySignatureSecret: "k",
    });
    vi.stubGlobal("fetch", async (url: string) => {
      if (url.endsWith("/challenge")) return Response.json({ challenge: raised, level: "raised" });
      return Response.json(SESSION, { status: 201 });
    });
    const slow = vi.fn();
    const result = await startProven("/api/v1", { language: "nl", entry: "widget" }, new AbortController().signal, slow);
    expect(result.kind).toBe("started");
    expect(slow).toHaveBeenCalledOnce();
  });

  it("gives up when the bots' challenge cannot be had", async () => {
    vi.stubGlobal("fetch", async () => new Response("", { status: 502 }));
    const result = await startProven("/api/v1", { language: "nl", entry: "widget" }, new AbortController().signal);
    expect(result.kind).toBe("failed");
  });
});
