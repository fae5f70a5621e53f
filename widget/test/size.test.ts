// No widget source file over 300 lines (issue 21; STYLE.md "modules small enough to read in one
// sitting"). Code only: the word list and the translation files are data.
import { describe, expect, it } from "vitest";

const MAX_LINES = 300;

/** Lines as `wc -l` counts them. */
function lines(text: string): number {
  return (text.match(/\n/g) ?? []).length;
}

/** "path: lines" for every file over `max` lines. */
function overLimit(files: Record<string, string>, max = MAX_LINES): string[] {
  return Object.entries(files)
    .filter(([, text]) => lines(text) > max)
    .map(([path, text]) => `${path.replace(/^\.\.\//, "")}: ${lines(text)}`);
}

const SOURCES = import.meta.glob<string>("../src/**/*.{ts,css}", { query: "?raw", import: "default", eager: true });

describe("widget file size", () => {
  it("reads every source file (the glob is not silently empty)", () => {
    expect(Object.keys(SOURCES)).toContain("../src/app/app.ts");
    expect(Object.keys(SOURCES)).toContain("../src/app/styles.css");
    expect(Object.keys(SOURCES).length).toBeGreaterThan(40);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    expect(overLimit(SOURCES)).toEqual([]);
  });

  it("names a file one line over the limit, and only that one", () => {
    const text = (n: number) => "x;\n".repeat(n);
    expect(overLimit({ "../src/a.ts": text(MAX_LINES), "../src/b.ts": text(MAX_LINES + 1) })).toEqual([`src/b.ts: ${MAX_LINES + 1}`]);
  });
});
