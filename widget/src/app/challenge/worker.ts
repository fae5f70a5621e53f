/**
 * The proof of work's Web Worker: tries counters (from `counterStart`, every `counterStep`)
 * until a PBKDF2-SHA-256 key starts with the challenge's prefix, off the page's main thread so
 * the chat stays responsive. altcha-lib's own solver and the browser's WebCrypto do the work.
 */
import { solveChallenge } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/web/pbkdf2";
import type { Challenge } from "altcha-lib/types";

interface Work {
  challenge: Challenge;
  counterStart: number;
  counterStep: number;
}

const scope = self as unknown as { onmessage: ((event: MessageEvent<Work>) => void) | null; postMessage(data: unknown): void };

scope.onmessage = (event) => {
  const { challenge, counterStart, counterStep } = event.data;
  solveChallenge({ challenge, deriveKey, counterStart, counterStep, timeout: 0 }).then(
    (solution) => scope.postMessage({ solution }),
    () => scope.postMessage({ solution: null }),
  );
};
