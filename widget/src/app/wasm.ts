/**
 * The crypto wasm on its own (its small JS glue and the .wasm), so it can be fetched and compiled
 * while the SDK chunk still loads: loader.ts imports this lazily, beside session.ts.
 */
import { initAsync } from "@matrix-org/matrix-sdk-crypto-wasm";

export function warmUp(): void {
  initAsync().then(() => performance.mark("kp-wasm"), () => undefined);
}
