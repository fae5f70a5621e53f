// The chat app: main.ts (small, loads at once) and the lazily imported SDK + Rust crypto (wasm).
// Hashed names everywhere; `.vite/manifest.json` tells the portal which files the page needs.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    manifest: true,
    sourcemap: false,
    // No inline data: URLs (the page's CSP has no data:), no preload polyfill (modern browsers).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { chat: "src/app/main.ts" } },
  },
  optimizeDeps: { exclude: ["@matrix-org/matrix-sdk-crypto-wasm"] },
});
