// The embed script: one classic (IIFE) file with no imports at run time, at a stable name
// (`embed.js`, what host pages reference) — postbuild adds a hashed copy for the portal.
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: false,
    target: "es2020",
    minify: "esbuild",
    sourcemap: false,
    lib: {
      entry: "src/embed/embed.ts",
      formats: ["iife"],
      name: "KeerpuntEmbed",
      fileName: () => "embed.js",
    },
  },
});
