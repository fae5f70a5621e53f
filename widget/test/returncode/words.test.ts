// The return code's word list hints at nothing (issue 23): a code is written on a note an
// exploiter may find. A list of stems, theme by theme, must match no word of the list in any
// inflected spelling: "anaal" also stands for "anale", "geweer" for "geweren", "dief" for "dieven".
// The list itself is made by widget/scripts/wordlist.py with a longer blocklist.
import { describe, expect, it } from "vitest";
import words from "../../src/app/returncode/words.nl.txt?raw";

const STEMS: Record<string, string[]> = {
  sex: ["seks", "sex", "anaal", "bdsm", "bondage", "condoom", "erot", "geil", "tiet", "naakt", "bloot", "blote",
    "porno", "neuk", "orgasme", "sperma", "lesbi", "hetero", "vrijen", "zoenen", "minnaar", "verliefd", "liefje",
    "escort", "prostitu", "hoer", "pooier", "vingeren", "tepel", "viagra", "wallen", "selfie", "webcam", "sauna"],
  body: ["lichaam", "penis", "vagina", "borst", "piemel", "buik", "heup", "darm", "schedel", "bekken", "tong"],
  insults: ["flikker", "klootzak", "klote", "eikel", "gestoord", "idioot", "debiel", "sukkel", "mongo", "wijven",
    "gezeik", "smerig", "kut", "lul", "slet"],
  violence: ["geweld", "moord", "slaan", "sloeg", "schiet", "verkracht", "martel", "onthoofd", "executie", "woede",
    "agressie", "slacht", "snijden", "bedreig", "ontvoer", "gijzel", "stoot"],
  weapons: ["wapen", "geweer", "pistool", "kogel", "munitie", "granaat", "kaliber", "zwaard", "bijl", "knuppel",
    "schutter", "kanon", "soldaat"],
  drugs: ["drug", "wiet", "coke", "cocaine", "heroine", "pillen", "dosis", "poeder", "spuit", "stoned", "dealer",
    "alcohol", "dronk", "drank", "kroeg", "koerier", "pakket", "bezorg"],
  money: ["geld", "schuld", "lening", "betaal", "betaling", "salaris", "rente", "krediet", "contant", "bank",
    "gulden", "verdien", "winst", "failliet"],
  crime: ["crimin", "kartel", "misdaad", "misdrijf", "dief", "stelen", "smokkel", "fraude", "maffia", "bende", "verdacht",
    "arrest", "opgepakt", "gevang", "vonnis", "getuig", "politie", "justitie", "rechtbank", "advocaat", "paspoort",
    "douane", "visum", "illegaal", "chantage", "afpers", "uitbuit", "misbruik", "slaaf"],
  "places of crime": ["kelder", "loods", "magazijn", "pakhuis", "riool", "casino", "bordeel"],
  "death and illness": ["dood", "dode", "sterf", "stierf", "begraf", "begra", "lijk", "weduwe", "ziek", "kanker",
    "aids", "dementie", "epidemie", "koorts", "griep", "besmet", "virus", "letsel", "gewond", "ziekenhuis",
    "zelfmoord", "stoornis", "depress"],
  religion: ["god", "jezus", "allah", "kerk", "moskee", "synagog", "bijbel", "koran", "gebed", "bidden",
    "heilig", "priester", "duivel", "demon", "magie", "magisch", "sharia", "haram"],
  politics: ["politiek", "politici", "partij", "minister", "kabinet", "coalitie", "kiezer", "liberaal", "radicaal",
    "fascis", "nazi", "etnisch", "racis", "asiel", "migratie"],
  "hints at a helpline": ["hulp", "help", "anoniem", "chatten", "opvang", "onderdak", "veilig", "redding",
    "melding", "aangifte", "geheim", "stiekem", "vlucht", "ontsnap", "weglopen", "dwang", "dwing", "bang",
    "angst", "paniek", "wanhoop", "verdriet", "tranen"],
};

/** The stem and the spelling it takes before an ending, as Dutch spells inflections. */
export function spellings(stem: string): string[] {
  const out = [stem];
  const last = stem.slice(-1);
  const voiced = last === "f" ? "v" : last === "s" ? "z" : last;
  // Before an ending that starts with a vowel (-e, -en, -er, -ig, -isch) a doubled vowel is
  // spelled single and a final f or s becomes v or z.
  let body: string | undefined;
  if (/([aeou])\1[^aeiou]$/.test(stem)) body = stem.slice(0, -3) + stem.slice(-2, -1) + voiced;
  else if (last === "f" || last === "s") body = stem.slice(0, -1) + voiced;
  if (body !== undefined) out.push(body + "e", body + "i");
  return out;
}

function blockedBy(word: string): string | undefined {
  for (const stems of Object.values(STEMS)) {
    for (const stem of stems) if (spellings(stem).some((form) => word.includes(form))) return stem;
  }
  return undefined;
}

describe("the return code's word list", () => {
  it("recognises the inflected forms of a blocked stem", () => {
    // The words found in real codes (issue 23), and inflections the stems alone would miss.
    for (const word of ["anale", "bdsm", "condooms", "erotisch", "geile", "tieten", "gestoord", "geweren",
      "idiote", "lichamen", "dieven", "misdaden", "begrafenis", "wanhopige", "soldaten"]) {
      expect(blockedBy(word), word).toBeDefined();
    }
    expect(spellings("anaal")).toEqual(["anaal", "anale", "anali"]);
    expect(spellings("dief")).toEqual(["dief", "dieve", "dievi"]);
    expect(spellings("vies")).toEqual(["vies", "vieze", "viezi"]);
    expect(spellings("tafel")).toEqual(["tafel"]);
    expect(blockedBy("tafel")).toBeUndefined();
  });

  it("holds no word with a blocked stem in any spelling", () => {
    const list = words.trim().split("\n");
    const found = list.flatMap((word) => {
      const stem = blockedBy(word);
      return stem === undefined ? [] : [`${word} (${stem})`];
    });
    expect(found).toEqual([]);
  });
});
