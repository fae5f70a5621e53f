/** Waiting for the Matrix client's local state to catch up, with a limit. */

export const WAIT_LIMIT_MS = 30000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `check()` holds (looked at every 50 ms); rejects after `limitMs`. */
export async function until(check: () => boolean, what: string, limitMs = WAIT_LIMIT_MS): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
