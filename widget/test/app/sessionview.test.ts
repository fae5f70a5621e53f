// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Conversations } from "../../src/app/conversations";
import { chatScreen } from "../../src/app/screens/chat";
import { BANNER_BACK_MS, sessionView } from "../../src/app/sessionview";
import { Screens } from "../../src/app/ui";
import { dialogs } from "./dom";

const CASE = "!case";

function view() {
  document.body.replaceChildren();
  const screens = new Screens(document.body, "nl", false);
  const conversations = new Conversations(screens, { option: vi.fn(), retry: vi.fn(), switched: vi.fn() });
  const chat = chatScreen(screens, conversations, "https://weer.test/", { send: () => true, typed: vi.fn(), end: vi.fn(), quickExit: vi.fn() });
  document.body.append(chat.section);
  screens.apply("nl");
  const ended = vi.fn();
  const callbacks = sessionView({ conversations, chat, caseRoom: () => CASE, ended, feedback: vi.fn() });
  conversations.open(CASE, "case");
  const q = (selector: string) => document.querySelector<HTMLElement>(selector) as HTMLElement;
  const lines = (room: string) => [...(conversations.get(room)?.panel.querySelectorAll(".kp-msg--system") ?? [])].map((l) => l.textContent);
  return { callbacks, conversations, chat, ended, q, lines, screens };
}

describe("the session's news on screen", () => {
  beforeEach(dialogs);
  afterEach(() => vi.useRealTimers());

  it("shows the queue position and wait, and clears it when a counsellor joins", () => {
    const { callbacks, q, lines } = view();
    callbacks.queue({ position: 2, minutes: 10 });
    expect(q(".kp-queue").textContent).toBe("Je bent nummer 2 in de rij. Je wacht ongeveer 10 minuten.");
    callbacks.queue({ position: null, minutes: 5 });
    expect(q(".kp-queue").textContent).toBe("Je wacht ongeveer 5 minuten.");
    callbacks.memberJoined(CASE);
    expect(q(".kp-queue").textContent).toBe("");
    callbacks.memberLeft(CASE);
    expect(lines(CASE)).toEqual(["Er doet nu een hulpverlener mee.", "De hulpverlener is uit het gesprek gegaan."]);
  });

  it("shows the queue line in the language chosen, also after a switch, and clears it for good", () => {
    const { callbacks, screens, q } = view();
    callbacks.queue({ position: 2, minutes: 10 });
    screens.apply("en");
    expect(q(".kp-queue").textContent).toBe("You are number 2 in the queue. You will wait about 10 minutes.");
    callbacks.queue({ position: 3, minutes: null });
    expect(q(".kp-queue").textContent).toBe("You are number 3 in the queue.");
    screens.apply("nl");
    expect(q(".kp-queue").textContent).toBe("Je bent nummer 3 in de rij.");
    callbacks.memberJoined(CASE);
    screens.apply("en");
    expect(q(".kp-queue").textContent).toBe(""); // a switch does not bring it back
  });

  it("keeps the typing line empty after a language switch once nobody types any more", () => {
    const { callbacks, screens, q } = view();
    callbacks.typing(CASE, ["Hulpverlener"]);
    screens.apply("en");
    expect(q(".kp-typing").textContent).toBe("Hulpverlener is typing…");
    callbacks.typing(CASE, []);
    screens.apply("nl");
    expect(q(".kp-typing").textContent).toBe("");
  });

  it("says the connection is lost, then back for a few seconds", () => {
    vi.useFakeTimers();
    const { callbacks, q } = view();
    callbacks.connection(false);
    expect(q(".kp-banner").textContent).toBe("De verbinding is weg. We proberen opnieuw te verbinden…");
    callbacks.connection(true);
    expect([q(".kp-banner").hidden, q(".kp-banner").textContent]).toEqual([false, "De verbinding is terug."]);
    vi.advanceTimersByTime(BANNER_BACK_MS);
    expect(q(".kp-banner").hidden).toBe(true);
  });

  it("does not let 'connection back' hide a warning shown after it", () => {
    vi.useFakeTimers();
    const { callbacks, q } = view();
    callbacks.connection(false);
    callbacks.connection(true);
    vi.advanceTimersByTime(BANNER_BACK_MS / 2);
    callbacks.untrusted(CASE);
    vi.advanceTimersByTime(BANNER_BACK_MS);
    expect(q(".kp-banner").hidden).toBe(false);
    expect(q(".kp-banner").textContent).toContain("Je bericht is niet verstuurd.");
  });

  it("warns when nobody in the conversation could read a message", () => {
    const { callbacks, q } = view();
    callbacks.untrusted(CASE);
    expect(q(".kp-banner").textContent).toContain("Je bericht is niet verstuurd.");
  });

  it("shows who is typing only for the conversation shown", () => {
    const { callbacks, conversations, q } = view();
    callbacks.typing(CASE, ["Hulpverlener"]);
    expect(q(".kp-typing").textContent).toBe("Hulpverlener is aan het typen…");
    conversations.open("!h", "handover");
    callbacks.typing("!h", ["Keerpunt"]);
    expect(q(".kp-typing").textContent).toBe("Hulpverlener is aan het typen…");
    callbacks.typing("!unknown", ["X"]);
    callbacks.typing(CASE, []);
    expect(q(".kp-typing").textContent).toBe("");
  });

  it("closes the case conversation: composer off, focus on 'End chat', no extra line", () => {
    const { callbacks, chat, conversations, lines } = view();
    callbacks.closed(CASE);
    expect(conversations.get(CASE)?.closed).toBe(true);
    expect(chat.input.disabled).toBe(true);
    expect(document.activeElement).toBe(chat.endButton);
    expect(lines(CASE)).toEqual([]);
  });

  it("opens a handover room beside the case room, says so in both, and shows it", () => {
    const { callbacks, conversations, lines } = view();
    callbacks.handover("!h");
    expect(conversations.active?.room).toBe("!h");
    expect(lines("!h")).toEqual([expect.stringContaining("Dit is een nieuw gesprek.")]);
    expect(lines(CASE)).toEqual([expect.stringContaining("Er is een nieuw gesprek voor je gestart.")]);
    callbacks.partner("!h", "Jeugdzorg Utrecht");
    expect(conversations.get("!h")?.name.textContent).toBe("Jeugdzorg Utrecht");
    callbacks.closed("!h");
    expect(lines("!h").at(-1)).toBe("Je bent niet meer in dit gesprek. Je kunt hier niets meer sturen.");
  });

  it("shows, updates and removes messages, and hands 'ended' to the app", () => {
    const { callbacks, conversations, ended } = view();
    const base = { from: "staff", name: null, state: "ok", prompt: null, status: null, notice: false } as const;
    callbacks.message(CASE, { ...base, key: "$1", body: null, state: "decrypting" });
    callbacks.message(CASE, { ...base, key: "$1", body: "hoi" });
    const list = conversations.get(CASE)?.list.list;
    expect([...(list?.querySelectorAll(".kp-body") ?? [])].map((b) => b.textContent)).toEqual(["hoi"]);
    callbacks.remove(CASE, "$1");
    expect(list?.children).toHaveLength(0);
    callbacks.ended();
    expect(ended).toHaveBeenCalledTimes(1);
  });
});
