/** Waiting for the Matrix client's local state to catch up, with a limit. */

export const WAIT_LIMIT_MS = 30000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves once `check()` holds (looked at every 50 ms); rejects after `limitMs`, or as soon as
 * `signal` is aborted.
 */
export async function until(check: () => boolean, what: string, limitMs = WAIT_LIMIT_MS, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    signal?.throwIfAborted();
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `work`, or a rejection with the signal's reason as soon as `signal` is aborted (whichever comes first). */
export function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(signal.reason);
    if (signal.aborted) {
      work.catch(() => undefined);
      abort();
      return;
    }
    signal.addEventListener("abort", abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
