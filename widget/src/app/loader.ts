/**
 * Loading the Matrix SDK (session.ts) and the Rust crypto's wasm (wasm.ts): both are big, so
 * they load only after the visitor asked for the chat (the launcher's frame with `warm=1`, a
 * pointer going down on "Start", or the start itself), each in its own request at once.
 */
import type { SessionModule } from "./session/types";

export interface LoaderDeps {
  /** Load the session module; tests hand in a fake one. */
  loadSession?: () => Promise<SessionModule>;
  /** Fetch and compile the crypto wasm (wasm.ts); tests that fake the session leave it out. */
  loadCrypto?: () => Promise<void>;
}

/**
 * A function that starts loading the SDK and compiling the wasm, once: later calls get the load
 * under way or done. A failed load is tried again at the next call.
 */
export function sdkLoader(deps: LoaderDeps): () => Promise<SessionModule> {
  let loading: Promise<SessionModule> | null = null;
  return () => {
    if (loading) return loading;
    const crypto = deps.loadCrypto ?? (deps.loadSession ? null : () => import("./wasm").then((m) => m.warmUp()));
    crypto?.().catch(() => undefined);
    const load = (deps.loadSession ?? (() => import("./session")))().then((m) => {
      performance.mark("kp-sdk");
      m.warmUp();
      return m;
    });
    load.catch(() => {
      if (loading === load) loading = null;
    });
    loading = load;
    return load;
  };
}
