// After `vite build`: hash a copy of the embed script, precompress every text and wasm file
// (.gz and .br next to it, only when smaller), and write dist/keerpunt-widget.json, the small
// manifest the portal reads to find the embed script and the chat page's assets.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const COMPRESS = /\.(js|mjs|css|wasm|json|svg|html|txt)$/;

const embed = readFileSync(join(dist, "embed.js"));
const embedHashed = `embed.${createHash("sha256").update(embed).digest("hex").slice(0, 12)}.js`;
copyFileSync(join(dist, "embed.js"), join(dist, embedHashed));

const vite = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));
const entry = Object.values(vite).find((chunk) => chunk.isEntry);
if (!entry) throw new Error("no entry chunk in the Vite manifest");

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== ".vite") yield* files(path);
    } else yield path;
  }
}

const sizes = {};
for (const path of [...files(dist)]) {
  if (!COMPRESS.test(path)) continue;
  const body = readFileSync(path);
  const gz = gzipSync(body, { level: 9 });
  const br = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      [constants.BROTLI_PARAM_MODE]: path.endsWith(".wasm") ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  if (gz.length < body.length) writeFileSync(`${path}.gz`, gz);
  if (br.length < body.length) writeFileSync(`${path}.br`, br);
  sizes[relative(dist, path)] = { raw: body.length, gzip: gz.length, brotli: br.length };
}

// What the chat loads once the visitor asked for it (loader.ts): the SDK and crypto chunks, the
// chunks they import, and the crypto's .wasm. The chat page opened from the launcher preloads
// them from its <head>, before its own script even runs.
const warm = { modules: [], wasm: [] };
const seen = new Set();
(function walk(keys) {
  for (const key of keys ?? []) {
    const chunk = vite[key];
    if (!chunk || seen.has(key) || chunk.isEntry || key.endsWith("?raw")) continue;
    seen.add(key);
    if (chunk.file.endsWith(".wasm")) continue;
    warm.modules.push(chunk.file);
    for (const asset of chunk.assets ?? []) if (asset.endsWith(".wasm") && !warm.wasm.includes(asset)) warm.wasm.push(asset);
    walk(chunk.imports);
    walk(chunk.dynamicImports);
  }
})(entry.dynamicImports);

const manifest = {
  embed: embedHashed,
  embed_stable: "embed.js",
  chat: { script: entry.file, css: entry.css ?? [], warm },
  sizes,
};
writeFileSync(join(dist, "keerpunt-widget.json"), JSON.stringify(manifest, null, 2) + "\n");
const e = sizes["embed.js"];
console.log(`embed.js: ${e.raw} B raw, ${e.gzip} B gzip, ${e.brotli} B brotli; chat entry ${entry.file}`);
