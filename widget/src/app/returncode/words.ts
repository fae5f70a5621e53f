/**
 * The words of a return code: making one (uniformly, with crypto.getRandomValues) and telling a
 * typed return code from an outreach code by its shape.
 *
 * The list (words.nl.txt, made once by scripts/wordlist.py) holds 4096 common Dutch words of
 * 4–8 letters a–z: in the Dutch dictionary in lower case (no names), not English, and without
 * words about crime, violence, drugs, sex, illness, death, help or the police, so that a code
 * written on a note hints at nothing. 4096 = 2^12: each word carries 12 bits, a code of four
 * words 48 bits. A lookup value costs 500 000 PBKDF2-SHA512 rounds to test, and the bots keep
 * only keyed hashes of it, so guessing a code offline is out of reach; online, every guess is
 * rate-limited. The second word adds its own entropy to everything but the lookup value.
 */

export const CODE_WORDS = 4;

/** The list, loaded only when a code is made (it is ~30 KB). */
export async function loadWords(): Promise<string[]> {
  const { default: text } = await import("./words.nl.txt?raw");
  return text.split("\n").filter((w) => w.length > 0);
}

/**
 * A uniform index below `n` from crypto.getRandomValues: 32-bit values at or above the largest
 * multiple of `n` are drawn again, so no index is more likely than another (no modulo bias).
 */
export function randomIndex(n: number, random: (out: Uint32Array) => Uint32Array = (o) => crypto.getRandomValues(o)): number {
  if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError("bad list size");
  const limit = 2 ** 32 - (2 ** 32 % n);
  const buffer = new Uint32Array(1);
  for (;;) {
    const value = random(buffer)[0] ?? 0;
    if (value < limit) return value % n;
  }
}

/** A new code: CODE_WORDS words drawn independently from `list`. */
export function makeCode(list: readonly string[], random?: (out: Uint32Array) => Uint32Array): string[] {
  return Array.from({ length: CODE_WORDS }, () => list[randomIndex(list.length, random)] as string);
}

/**
 * The words of a typed return code, or null when the text has another shape (an outreach code,
 * say). Words are letters only; spaces, dashes, dots and commas between them do not matter.
 * Whether the words are on the list is not checked: only the bots know whether a code exists.
 */
export function returnCodeWords(text: string | null): string[] | null {
  if (!text) return null;
  const normal = text.normalize("NFKC").toLowerCase().trim();
  if (!/^[\p{L}\s.,\-‐‑–—]+$/u.test(normal)) return null;
  const words = normal.split(/[\s.,\-‐‑–—]+/u).filter((w) => w.length > 0);
  if (words.length !== CODE_WORDS || words.some((w) => w.length < 2 || w.length > 20)) return null;
  return words;
}

/** A code as shown to the visitor: its words joined by "-". */
export function showCode(words: readonly string[]): string {
  return words.join("-");
}
