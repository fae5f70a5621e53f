/**
 * The proof of work before a start (docs/abuse.md): ask the bots for a challenge
 * (`GET …/sessions/challenge`), solve it in Web Workers (off the main thread: the page stays
 * responsive; without workers, on the main thread in slices that yield), and send the answer
 * with the start. No third party and no cookie: the challenge comes from the bots and goes back
 * to them. A challenge the bots no longer accept (expired, or the level went up meanwhile) is
 * asked for and solved once more.
 */
import { solveChallenge } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/web/pbkdf2";
import type { Challenge, Solution } from "altcha-lib/types";
import { startSession, type StartRequest, type StartResult } from "../api";

/** Workers at most (the hard level on a phone with several cores goes that much faster). */
const MAX_WORKERS = 4;
/**
 * A challenge not solved in this long is given up: only a broken one (the counter is always
 * below the level's number; the hard level takes about a minute on a slow phone at most).
 */
const GIVE_UP_MS = 15 * 60_000;

/** The challenge to solve, null when the bots ask for none, undefined when asking failed. */
export async function fetchChallenge(api: string): Promise<Challenge | null | undefined> {
  try {
    const response = await fetch(`${api}/sessions/challenge`, {
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    if (response.status === 404) return null; // bots without the proof of work
    if (!response.ok) return undefined;
    const data = (await response.json()) as { challenge?: unknown };
    if (data.challenge === null) return null;
    const c = data.challenge as Challenge | undefined;
    const p = c?.parameters;
    if (!c || !p || typeof p.nonce !== "string" || typeof p.salt !== "string" || typeof p.keyPrefix !== "string") {
      return undefined;
    }
    return c;
  } catch {
    return undefined;
  }
}

function inWorkers(challenge: Challenge, signal: AbortSignal): Promise<Solution | null> {
  const count = Math.max(1, Math.min(MAX_WORKERS, navigator.hardwareConcurrency || 1));
  const workers: Worker[] = [];
  const stop = () => workers.forEach((w) => w.terminate());
  return new Promise<Solution | null>((resolve, reject) => {
    const timer = setTimeout(() => finish(null), GIVE_UP_MS);
    const finish = (solution: Solution | null) => {
      clearTimeout(timer);
      stop();
      resolve(solution);
    };
    signal.addEventListener("abort", () => finish(null), { once: true });
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      workers.push(worker);
      worker.onerror = () => {
        clearTimeout(timer);
        stop();
        reject(new Error("worker failed"));
      };
      worker.onmessage = (event: MessageEvent<{ solution: Solution | null }>) => {
        if (event.data.solution) finish(event.data.solution);
      };
      worker.postMessage({ challenge, counterStart: i, counterStep: count });
    }
  });
}

/**
 * Solve `challenge`. The normal level on the main thread: starting workers costs more than its
 * few tries (bench/challenge.py), and each try awaits WebCrypto, which derives off the main
 * thread, so the page stays responsive (altcha-lib also yields every 200 ms). A raised or hard
 * level in workers, several at once; without workers, on the main thread too.
 */
export async function solve(challenge: Challenge, signal: AbortSignal): Promise<Solution | null> {
  if (challenge.parameters.data?.level !== "normal" && typeof Worker !== "undefined") {
    try {
      return await inWorkers(challenge, signal);
    } catch {
      // A worker could not start (an old browser, a strict policy): the main thread does it.
    }
  }
  const controller = new AbortController();
  signal.addEventListener("abort", () => controller.abort(), { once: true });
  return solveChallenge({ challenge, deriveKey, controller, timeout: GIVE_UP_MS });
}

/** The answer as the bots read it: base64 of `{"challenge", "solution"}`. */
export function answer(challenge: Challenge, solution: Solution): string {
  const json = JSON.stringify({ challenge, solution: { counter: solution.counter, derivedKey: solution.derivedKey } });
  return btoa(json);
}

/**
 * Start a session with the proof of work the bots ask for (once more if they refuse it);
 * `slow` is called when it is more than the normal level (the visitor is told it takes longer).
 */
export async function startProven(
  api: string,
  request: StartRequest,
  signal: AbortSignal,
  slow: () => void = () => undefined,
): Promise<StartResult> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const challenge = await fetchChallenge(api);
    if (challenge === undefined) return { kind: "failed" };
    let proven = request;
    if (challenge !== null) {
      if (challenge.parameters.data?.level !== "normal") slow();
      const solution = await solve(challenge, signal);
      if (!solution) return { kind: "failed" };
      proven = { ...request, challenge: answer(challenge, solution) };
    }
    performance.mark("kp-proof"); // bench/challenge.py: the time the proof of work took
    const result = await startSession(api, proven);
    if (result.kind !== "proof") return result;
  }
  return { kind: "failed" };
}
