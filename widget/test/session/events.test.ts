import { describe, expect, it } from "vitest";
import { DecryptionFailureCode } from "matrix-js-sdk/lib/crypto-api/index.js";
import {
  botNews,
  eventKey,
  isShownType,
  isStaffCommand,
  redactedId,
  renderEvent,
  senderName,
  type EventLike,
} from "../../src/app/session/events";

const BOT = "@keerpunt:k";

/** A MatrixEvent-like stand-in: decrypted unless told otherwise. */
function event(over: Partial<Record<keyof EventLike, unknown>> & { content?: object; type?: string } = {}): EventLike {
  const { content = { msgtype: "m.text", body: "hallo" }, type = "m.room.message", ...rest } = over;
  return {
    getId: () => "$1",
    getTxnId: () => undefined,
    getSender: () => "@anna:k",
    getRoomId: () => "!case:k",
    getType: () => type,
    getWireType: () => "m.room.encrypted",
    getContent: () => content,
    isState: () => false,
    isBeingDecrypted: () => false,
    shouldAttemptDecryption: () => false,
    isDecryptionFailure: () => false,
    isRedacted: () => false,
    decryptionFailureReason: null,
    event: {},
    ...rest,
  } as EventLike;
}

const who = { bot: BOT, name: "Anna" };

describe("renderEvent", () => {
  it("shows a counsellor's text message as text, with the sender's name", () => {
    expect(renderEvent(event(), who)).toEqual({
      kind: "message",
      view: { key: "$1", from: "staff", name: "Anna", body: "hallo", state: "ok", prompt: null, status: null, notice: false },
      bot: null,
    });
  });

  it("marks the bot's notices and hands on the bot's content", () => {
    const content = { msgtype: "m.notice", body: "Welkom", "nl.keerpunt.message": "greeting.welcome" };
    const rendered = renderEvent(event({ getSender: () => BOT, content }), { bot: BOT, name: "Keerpunt" });
    expect(rendered.kind === "message" && rendered.view).toMatchObject({ from: "bot", notice: true, body: "Welkom" });
    expect(rendered.bot).toBe(content);
  });

  it("shows an event that is still being decrypted as being opened, without text", () => {
    for (const over of [{ isBeingDecrypted: () => true }, { shouldAttemptDecryption: () => true }]) {
      const rendered = renderEvent(event(over), who);
      expect(rendered).toMatchObject({ kind: "message", view: { state: "decrypting", body: null }, bot: null });
    }
  });

  it("keeps waiting for a message from a sender device not known yet, and gives up on other failures", () => {
    const failed = (reason: DecryptionFailureCode) =>
      renderEvent(event({ isDecryptionFailure: () => true, decryptionFailureReason: reason }), who);
    expect(failed(DecryptionFailureCode.UNKNOWN_SENDER_DEVICE)).toMatchObject({ view: { state: "decrypting", body: null } });
    expect(failed(DecryptionFailureCode.MEGOLM_UNKNOWN_INBOUND_SESSION_ID)).toMatchObject({
      view: { state: "undecryptable", body: null },
    });
  });

  it("makes buttons of the bot's prompts only, in a message or as their own event type", () => {
    const prompt = { id: "audience", options: [{ id: "self", label: "Voor mezelf" }] };
    const inMessage = { msgtype: "m.text", body: "Voor wie?", "nl.keerpunt.prompt": prompt };
    const fromBot = renderEvent(event({ getSender: () => BOT, content: inMessage }), who);
    expect(fromBot.kind === "message" && fromBot.view.prompt).toEqual(prompt);
    const ownType = renderEvent(event({ getSender: () => BOT, type: "nl.keerpunt.prompt", content: { body: "Voor wie?", ...prompt } }), who);
    expect(ownType.kind === "message" && ownType.view.prompt).toEqual(prompt);
    const fromStaff = renderEvent(event({ content: inMessage }), who);
    expect(fromStaff.kind === "message" && fromStaff.view).toMatchObject({ prompt: null, body: "Voor wie?" });
    expect(fromStaff.bot).toBeNull();
  });

  it("shows a question with buttons once: the bot's numbered list goes, anyone else's text stays", () => {
    const prompt = { id: "audience", options: [{ id: "self", label: "Voor mezelf" }, { id: "skip", label: "Sla over" }] };
    const body = "Voor wie?\n1. Voor mezelf\n2. Sla over\nTyp het nummer, of typ je antwoord.";
    const content = { msgtype: "m.text", body, "nl.keerpunt.prompt": prompt };
    const fromBot = renderEvent(event({ getSender: () => BOT, content }), who);
    expect(fromBot.kind === "message" && fromBot.view).toMatchObject({ body: "Voor wie?", prompt });
    const fromStaff = renderEvent(event({ content }), who);
    expect(fromStaff.kind === "message" && fromStaff.view).toMatchObject({ body, prompt: null });
  });

  it("hides a decrypted event that is not a message, keeping the bot's content to act on", () => {
    const content = { "nl.keerpunt.queue": { position: 2 } };
    expect(renderEvent(event({ type: "m.reaction", content }), who)).toEqual({ kind: "hidden", key: "$1", bot: null });
    expect(renderEvent(event({ getSender: () => BOT, type: "nl.keerpunt.state", content }), who)).toEqual({
      kind: "hidden",
      key: "$1",
      bot: content,
    });
  });

  it("never shows a staff command from a counsellor or a partner, not even for a moment", () => {
    for (const body of ["!note 12 geheim", "  !queue", "\n\t!note 3 x", "\u00a0!stats", "\u001f!note 4 y", "\u0085!help", "!"]) {
      expect(renderEvent(event({ content: { msgtype: "m.text", body } }), who)).toEqual({ kind: "hidden", key: "$1", bot: null });
      expect(renderEvent(event({ getSender: () => "@partner:k", content: { msgtype: "m.notice", body } }), who).kind).toBe("hidden");
    }
    // Also as the text of an edit, or sent as a prompt event by someone who is not the bot.
    const edit = { msgtype: "m.text", body: "* oeps", "m.new_content": { msgtype: "m.text", body: "!note 12 geheim" } };
    expect(renderEvent(event({ content: edit }), who).kind).toBe("hidden");
    expect(renderEvent(event({ type: "nl.keerpunt.prompt", content: { body: "!note 12 geheim" } }), who).kind).toBe("hidden");
  });

  it("shows an exclamation mark that does not start the message, and the bot's own text as it is", () => {
    const text = renderEvent(event({ content: { msgtype: "m.text", body: "Goed gedaan!" } }), who);
    expect(text.kind === "message" && text.view.body).toBe("Goed gedaan!");
    const fromBot = renderEvent(event({ getSender: () => BOT, content: { msgtype: "m.notice", body: "!Let op" } }), who);
    expect(fromBot.kind === "message" && fromBot.view.body).toBe("!Let op");
  });

  it("hides a redacted event, whoever sent it and however far its decryption got", () => {
    const redacted = { isRedacted: () => true, content: {} };
    for (const over of [{}, { getSender: () => BOT }, { shouldAttemptDecryption: () => true }, { isDecryptionFailure: () => true }]) {
      expect(renderEvent(event({ ...redacted, ...over }), who)).toEqual({ kind: "hidden", key: "$1", bot: null });
    }
  });

  it("never passes on a body that is not a string", () => {
    const rendered = renderEvent(event({ content: { msgtype: "m.text", body: { html: "<b>x</b>" } } }), who);
    expect(rendered.kind === "message" && rendered.view.body).toBe("");
  });
});

describe("eventKey and isShownType", () => {
  it("keys an event by its ID, else by its transaction ID", () => {
    expect(eventKey({ getId: () => "$e", getTxnId: () => "t1" })).toBe("$e");
    expect(eventKey({ getId: () => undefined, getTxnId: () => "t1" })).toBe("t1");
    expect(eventKey({ getId: () => undefined, getTxnId: () => undefined })).toBe("");
  });

  it("shows messages, encrypted events and prompts, nothing else", () => {
    expect(["m.room.encrypted", "m.room.message", "nl.keerpunt.prompt"].every(isShownType)).toBe(true);
    expect(["m.reaction", "m.room.member", "m.room.redaction", "m.sticker"].some(isShownType)).toBe(false);
  });
});

describe("isStaffCommand and redactedId", () => {
  it("reads a command from the body or the edited body only", () => {
    expect(isStaffCommand({ body: " !note 1 x" })).toBe(true);
    expect(isStaffCommand({ body: "hoi", "m.new_content": { body: "!queue" } })).toBe(true);
    expect(isStaffCommand({ body: "hoi !note", formatted_body: "!note" })).toBe(false);
    expect(isStaffCommand({ body: ["!note"], "m.new_content": "!note" })).toBe(false);
  });

  it("names the event a redaction takes away, at the top (up to v10) or in the content (v11)", () => {
    const redaction = (top: unknown, content: object = {}) =>
      ({ getWireType: () => "m.room.redaction", getContent: () => content, event: { redacts: top } }) as never;
    expect(redactedId(redaction("$a"))).toBe("$a");
    expect(redactedId(redaction(undefined, { redacts: "$b" }))).toBe("$b");
    expect(redactedId(redaction(undefined))).toBeNull();
    expect(redactedId(redaction(5, { redacts: 6 }))).toBeNull();
    expect(redactedId({ getWireType: () => "m.room.message", getContent: () => ({ redacts: "$c" }), event: { redacts: "$c" } })).toBeNull();
  });
});

describe("senderName", () => {
  const known = { bot: BOT, botName: "Keerpunt", organisation: null };

  it("calls the bot by its name and a counsellor by their own display name", () => {
    expect(senderName(BOT, "keerpunt-bot", known)).toBe("Keerpunt");
    expect(senderName("@anna:k", "Anna", known)).toBe("Anna");
  });

  it("shows no name (the list says 'Counsellor') when js-sdk fell back to the user ID", () => {
    expect(senderName("@anna:k", null, known)).toBeNull();
    expect(senderName("@anna:k", "@anna:k", known)).toBeNull();
    expect(senderName("@anna:k", "anna", known)).toBeNull();
  });

  it("names intake staff without a display name after their organisation", () => {
    expect(senderName("@i:k", null, { ...known, organisation: "Jeugdzorg Utrecht" })).toBe("Jeugdzorg Utrecht");
    expect(senderName("@i:k", "Sanne", { ...known, organisation: "Jeugdzorg Utrecht" })).toBe("Sanne");
  });

  it("cleans hostile display names, and never shows a Matrix ID as a name", () => {
    expect(senderName("@x:k", "Anna\u202e", known)).toBe("Anna");
    expect(senderName("@x:k", "@keerpunt:k", known)).toBeNull();
  });
});

describe("botNews", () => {
  it("reads queue news, a closed case and 'later' in the case room", () => {
    expect(botNews("case", { "nl.keerpunt.queue": { position: 1, wait_minutes: 5 } })).toEqual([
      { kind: "queue", info: { position: 1, minutes: 5 } },
    ]);
    expect(botNews("case", { "nl.keerpunt.message": "queue.visitor.closed" })).toEqual([{ kind: "closed" }]);
    expect(botNews("case", { "nl.keerpunt.message": "handover.later" })).toEqual([{ kind: "reopen", prompt: "handover" }]);
  });

  it("reads the partner's name and an intake member's organisation in a handover room", () => {
    const intro = { "nl.keerpunt.message": "handover.intro", "nl.keerpunt.handover": { partner: "Jeugdzorg\u0000 Utrecht" } };
    expect(botNews("handover", intro)).toEqual([{ kind: "partner", name: "Jeugdzorg Utrecht" }]);
    const joined = { "nl.keerpunt.message": "handover.partner_joined", "nl.keerpunt.partner": { user: "@i:k", organisation: "Politie" } };
    expect(botNews("handover", joined)).toEqual([{ kind: "organisation", user: "@i:k", organisation: "Politie" }]);
  });

  const OFFER = {
    ticket: "abc",
    questions: [{ id: "helped", text: { nl: "Hielp het?", en: "Did it help?" }, answers: [{ id: "yes", label: { nl: "Ja", en: "Yes" } }, { id: "no", label: { nl: "Nee", en: "No" } }] }],
  };

  it("reads the verdict's offer and a colleague reading along in the case room only", () => {
    const claimed = { "nl.keerpunt.message": "queue.visitor.claimed", "nl.keerpunt.feedback": OFFER };
    expect(botNews("case", claimed)).toEqual([{ kind: "feedback", offer: OFFER }]);
    const watching = { "nl.keerpunt.supervisor": { user: "@sam:k", watching: true } };
    expect(botNews("case", watching)).toEqual([{ kind: "supervisor", user: "@sam:k", watching: true }]);
    expect(botNews("handover", claimed)).toEqual([]);
    expect(botNews("handover", watching)).toEqual([]);
  });

  it("ignores a malformed offer as a whole", () => {
    const broken = [
      { ...OFFER, ticket: "" },
      { ...OFFER, questions: [] },
      { ...OFFER, questions: [{ ...OFFER.questions[0], answers: [OFFER.questions[0]!.answers[0]] }] },
      { ...OFFER, questions: [{ ...OFFER.questions[0], text: { nl: "Alleen Nederlands" } }] },
      { ...OFFER, questions: [OFFER.questions[0], OFFER.questions[0], OFFER.questions[0], OFFER.questions[0]] },
    ];
    for (const offer of broken) expect(botNews("case", { "nl.keerpunt.feedback": offer })).toEqual([]);
    expect(botNews("case", { "nl.keerpunt.supervisor": { user: "@sam:k" } })).toEqual([]);
  });

  it("ignores what does not belong in the room, and anything malformed", () => {
    expect(botNews("handover", { "nl.keerpunt.queue": { position: 1 }, "nl.keerpunt.message": "queue.visitor.closed" })).toEqual([]);
    expect(botNews("case", { "nl.keerpunt.message": "handover.intro", "nl.keerpunt.handover": { partner: "X" } })).toEqual([]);
    expect(botNews("handover", { "nl.keerpunt.message": "handover.intro", "nl.keerpunt.handover": { partner: "@x:k" } })).toEqual([]);
    expect(botNews("handover", { "nl.keerpunt.message": "handover.partner_joined", "nl.keerpunt.partner": { user: "@i:k" } })).toEqual([]);
    expect(botNews("case", { "nl.keerpunt.queue": { position: -3 } })).toEqual([]);
  });
});
