import { describe, expect, it } from "vitest";
import {
  messageKind,
  parseHandoverPartner,
  parsePartnerMember,
  parsePrompt,
  parseQueue,
  withoutOptionList,
} from "../src/app/content";
import { parseSession } from "../src/app/api";
import en from "../src/app/locales/en.json";
import nl from "../src/app/locales/nl.json";

describe("structured content", () => {
  it("keeps well-formed prompt options and drops the rest", () => {
    expect(
      parsePrompt({ id: "who", options: [{ id: "me", label: "Ik" }, { id: 3, label: "x" }, { id: "x", label: "" }] }),
    ).toEqual({ id: "who", options: [{ id: "me", label: "Ik" }] });
    expect(parsePrompt({ id: "who", options: [] })).toBeNull();
    expect(parsePrompt("who")).toBeNull();
  });

  it("keeps every option of the longest triage question (14), but not a flood", () => {
    const many = (n: number) => ({ id: "region", options: Array.from({ length: n }, (_, i) => ({ id: `o${i}`, label: `O${i}` })) });
    expect(parsePrompt(many(14))?.options).toHaveLength(14);
    expect(parsePrompt(many(500))?.options.length).toBeLessThanOrEqual(24);
  });

  it("reads the queue position and wait", () => {
    expect(parseQueue({ position: 2, wait_minutes: 10 })).toEqual({ position: 2, minutes: 10 });
    expect(parseQueue({ position: -1 })).toBeNull();
  });

  it("accepts only a complete session answer", () => {
    const ok = {
      homeserver: "https://matrix.keerpunt.nl/",
      user_id: "@v:k",
      access_token: "t",
      device_id: "D",
      room_id: "!r:k",
      bot: "@keerpunt:k",
      case: "4821",
    };
    expect(parseSession(ok)?.homeserver).toBe("https://matrix.keerpunt.nl");
    expect(parseSession({ ...ok, access_token: 5 })).toBeNull();
    expect(parseSession({ ...ok, homeserver: "javascript:x" })).toBeNull();
  });
});

describe("translations", () => {
  it("have the same keys in Dutch and English, none empty", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(nl).sort());
    for (const value of [...Object.values(nl), ...Object.values(en)]) expect(value.trim()).not.toBe("");
  });
});

describe("handover content", () => {
  it("reads the partner's name and an intake member's organisation, nothing malformed", () => {
    expect(messageKind({ "nl.keerpunt.message": "handover.intro" })).toBe("handover.intro");
    expect(messageKind({ "nl.keerpunt.message": 7 })).toBeNull();
    expect(parseHandoverPartner({ partner: "Veilig Thuis", case_room: "!c:k" })).toBe("Veilig Thuis");
    expect(parseHandoverPartner({ partner: "" })).toBeNull();
    expect(parseHandoverPartner("Veilig Thuis")).toBeNull();
    expect(parsePartnerMember({ user: "@i:k", organisation: "Politie" })).toEqual({ user: "@i:k", organisation: "Politie" });
    expect(parsePartnerMember({ user: "@i:k" })).toBeNull();
  });
});

describe("the plain-text list of options where buttons show", () => {
  const prompt = {
    id: "audience",
    options: [
      { id: "self", label: "Voor mezelf" },
      { id: "other", label: "Voor iemand anders" },
      { id: "skip", label: "Sla over" },
    ],
  };

  it("goes, with the 'type the number' line after it, and the question stays (triage)", () => {
    const body =
      "Ik stel je eerst een paar korte vragen.\n\nVoor wie chat je?\n1. Voor mezelf\n2. Voor iemand anders\n3. Sla over\n" +
      "Typ het nummer, of typ je antwoord.";
    expect(withoutOptionList(body, prompt)).toBe("Ik stel je eerst een paar korte vragen.\n\nVoor wie chat je?");
  });

  it("goes as a dashed list too, and the text before it stays (handover consent)", () => {
    const body = "Wil je dat?\n– Voor mezelf\n– Voor iemand anders\n– Sla over";
    expect(withoutOptionList(body, prompt)).toBe("Wil je dat?");
  });

  it("stays when the list is not exactly the options in order", () => {
    const partial = "Voor wie?\n1. Voor mezelf\n2. Sla over\nTyp het nummer.";
    expect(withoutOptionList(partial, prompt)).toBe(partial);
    const shuffled = "Voor wie?\n1. Voor iemand anders\n2. Voor mezelf\n3. Sla over";
    expect(withoutOptionList(shuffled, prompt)).toBe(shuffled);
  });

  it("keeps a line after the list that is not the last one", () => {
    const body = "Voor wie?\n1. Voor mezelf\n2. Voor iemand anders\n3. Sla over\nTyp het nummer.\nOf bel 112.";
    expect(withoutOptionList(body, prompt)).toBe("Voor wie?\nTyp het nummer.\nOf bel 112.");
  });
});
