// The return code in the widget (docs/return-code.md): the derivation matches the documented
// one (checked against Python's hashlib), the code's words are drawn without bias, and typed
// codes are told apart by shape.
import { describe, expect, it } from "vitest";
import { base64url, canonicalWord, derive, fromBase64url } from "../../src/app/returncode/derive";
import words from "../../src/app/returncode/words.nl.txt?raw";
import { CODE_WORDS, makeCode, randomIndex, returnCodeWords } from "../../src/app/returncode/words";

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("derive", () => {
  it("gives what the contract says, byte for byte (reference: hashlib at 1000 rounds)", async () => {
    const got = await derive(["Tafel", "regen", "VOSJE", "mantel"], "  Zonnebloem ", 1000);
    expect(got.lookup).toBe("zuveq1Xo_qGPtB7LX1Wso_zGq1ZsrWNG1eEA51UP-FA");
    expect(got.verifier).toBe("BOLTSX74JZYMGyT43RcC0sZJaIHTrcuOxqOIT5yaLjg");
    expect(got.login).toBe("ieBjTkjWz73mDAlYshfmFFGg8btJuxwYmzCqD8uNaQA");
    // A code made before the bots took part (no part: an empty salt, as then).
    expect(hex(await got.storageKey(null))).toBe("d01a0765994c37ed794e09578059d567132f3fd6eea5e9811f21ef744f24d18a");
    // With the bots' part as the HKDF salt.
    const part = new Uint8Array(32).fill(1);
    expect(hex(await got.storageKey(part))).toBe("9b8a2d06b3a0d7f0b8e41837ef612163effc3b928af6d269e35be7c627aeb874");
    for (const value of [got.lookup, got.verifier, got.login]) expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("needs the bots' part: without it, or with another, the secret-storage key is another", async () => {
    const got = await derive(["a", "b", "c", "d"], "een", 10);
    const part = crypto.getRandomValues(new Uint8Array(32));
    const other = crypto.getRandomValues(new Uint8Array(32));
    const keyed = hex(await got.storageKey(part));
    expect(hex(await got.storageKey(part))).toBe(keyed);
    expect(hex(await got.storageKey(null))).not.toBe(keyed);
    expect(hex(await got.storageKey(other))).not.toBe(keyed);
  });

  it("reads the bots' part from base64url and nothing else", () => {
    const part = crypto.getRandomValues(new Uint8Array(32));
    expect(fromBase64url(base64url(part))).toEqual(part);
    for (const bad of [null, 7, "", "abc", `${base64url(part)}=`, base64url(part).slice(1) + "+"]) expect(fromBase64url(bad)).toBeNull();
  });

  it("makes the lookup from the code alone, everything else from the code and the word", async () => {
    const a = await derive(["a", "b", "c", "d"], "een", 10);
    const b = await derive(["a", "b", "c", "d"], "twee", 10);
    expect(a.lookup).toBe(b.lookup);
    expect(a.verifier).not.toBe(b.verifier);
    expect(hex(await a.storageKey(null))).not.toBe(hex(await b.storageKey(null)));
    expect(canonicalWord(" Ｚon ")).toBe("zon");
  });
});

describe("the words", () => {
  const list = words.trim().split("\n");

  it("are 4096 distinct words of 4 to 8 letters a-z", () => {
    expect(list).toHaveLength(4096);
    expect(new Set(list).size).toBe(4096);
    expect(list.every((w) => /^[a-z]{4,8}$/.test(w))).toBe(true);
  });

  it("are drawn without modulo bias: values past the last whole multiple are drawn again", () => {
    const values = [2 ** 32 - 1, 2 ** 32 - 2, 7];
    const random = (out: Uint32Array): Uint32Array => {
      out[0] = values.shift() ?? 0;
      return out;
    };
    // 2^32 mod 10 = 6: the top 6 values would favour 0..5; they are skipped.
    expect(randomIndex(10, random)).toBe(7);
    expect(makeCode(list)).toHaveLength(CODE_WORDS);
  });

  it("tell a typed return code from an outreach code by shape", () => {
    expect(returnCodeWords("Tafel regen-vosje.  mantel")).toEqual(["tafel", "regen", "vosje", "mantel"]);
    expect(returnCodeWords("KX7M-3P9Q-AW4D")).toBeNull();
    expect(returnCodeWords("ACDE-FGHJ-KMNP")).toBeNull();
    expect(returnCodeWords("tafel regen vosje")).toBeNull();
    expect(returnCodeWords("tafel regen vosje m4ntel")).toBeNull();
  });
});
