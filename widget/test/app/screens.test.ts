// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Conversations } from "../../src/app/conversations";
import { formatOpening } from "../../src/app/hours";
import { translate, type Language } from "../../src/app/i18n";
import { chatScreen } from "../../src/app/screens/chat";
import { closedScreen, endedScreen, errorScreen } from "../../src/app/screens/notices";
import { startScreen, type StartConfig } from "../../src/app/screens/start";
import { Screens } from "../../src/app/ui";
import { dialogs, pickLanguage } from "./dom";

const OPENS_AT = "2030-01-07T09:00:00+01:00"; // a Monday, 09:00 in Amsterdam

function page(language: Language = "nl") {
  document.body.replaceChildren();
  const root = document.createElement("main");
  document.body.append(root);
  return { root, screens: new Screens(root, language, false) };
}

/** Registers `section` as the screen `name`, puts it on the page and translates the page. */
function mount(screens: Screens, root: HTMLElement, name: Parameters<Screens["add"]>[0], section: HTMLElement): HTMLElement {
  screens.add(name, section);
  root.append(section);
  screens.apply(screens.lang);
  return section;
}

const HOURS = { nl: "ma–vr 09:00–21:00.", en: "Mon–Fri 09:00–21:00." };

describe("the start screen", () => {
  function start(config: Partial<StartConfig> = {}, language: Language = "nl") {
    const { root, screens } = page(language);
    const on = { start: vi.fn(), warm: vi.fn() };
    const s = startScreen(screens, { hours: HOURS, openNow: true, opensAt: null, ...config }, on);
    const section = mount(screens, root, "start", s.section);
    s.refresh();
    const hours = section.querySelector<HTMLElement>(".kp-hours");
    const closedNow = section.querySelector<HTMLElement>(".kp-closed-now");
    return { s, screens, section, on, hours, closedNow };
  }

  it("puts who, anonymous and how to leave fast before Start, and the rest after it, in Dutch", () => {
    const { section, hours, closedNow } = start();
    expect(section.querySelector("h1")?.textContent).toBe("Praat anoniem met een hulpverlener");
    // Three facts before the button; the quick exit's in two versions, with keys and for touch screens.
    const facts = [...section.querySelectorAll<HTMLElement>(".kp-facts li")].map((li) => li.dataset.t);
    expect(facts).toEqual(["start_who", "start_anonymous", "start_quick_exit", "start_quick_exit_touch"]);
    expect(section.querySelector(".kp-facts .kp-keys-only")?.textContent).toContain("Shift");
    expect(section.querySelector(".kp-facts .kp-touch-only")?.textContent).not.toContain("Shift");
    // In the page's order: heading, facts, Start, then the closed notice, 112, the code and the rest.
    const order = [...section.querySelectorAll<HTMLElement>("h1, .kp-facts, button.kp-primary, .kp-closed-now, .kp-danger, .kp-code, .kp-more")];
    expect(order.map((e) => e.className || e.tagName)).toEqual(["H1", "kp-facts", "kp-primary", "kp-closed-now", "kp-danger", "kp-code", "kp-more"]);
    const more = section.querySelector<HTMLElement>(".kp-more");
    expect(more?.querySelector("h2")?.textContent).toBe("Goed om te weten");
    expect(more?.contains(hours ?? null)).toBe(true);
    expect(hours?.hidden).toBe(false);
    expect(hours?.textContent).toBe("Wanneer is er iemand? ma–vr 09:00–21:00.");
    // Exactly who can read the chat: the bots are in the room too (security review N11).
    expect(more?.textContent).toContain("Alleen jij, de hulpverleners in het gesprek en het chatsysteem van Keerpunt kunnen het lezen.");
    expect(closedNow?.hidden).toBe(true);
    expect(section.querySelector(".kp-danger")?.textContent).toBe("Ben je nu in gevaar? Bel 112.");
  });

  it("hides the hours line when there are no weekly hours", () => {
    const { hours } = start({ hours: {} });
    expect(hours?.hidden).toBe(true);
  });

  it("says when a closed chat opens again, in Amsterdam time, and again after a language switch", () => {
    const { s, screens, closedNow, hours } = start({ openNow: false, opensAt: OPENS_AT });
    expect(closedNow?.hidden).toBe(false);
    const nl = formatOpening(OPENS_AT, "nl") ?? "";
    expect(nl).toContain("maandag 7 januari");
    expect(nl).toContain("09:00");
    expect(closedNow?.textContent).toBe(translate("nl", "closed_now", { when: nl }));
    screens.apply("en");
    s.refresh();
    const en = formatOpening(OPENS_AT, "en") ?? "";
    expect(en).toContain("Monday 7 January");
    expect(closedNow?.textContent).toBe(translate("en", "closed_now", { when: en }));
    expect(hours?.textContent).toBe("When is someone there? Mon–Fri 09:00–21:00.");
  });

  it("says nothing about closing when the opening time is missing or not a date", () => {
    expect(start({ openNow: false, opensAt: null }).closedNow?.hidden).toBe(true);
    expect(start({ openNow: false, opensAt: "soon" }).closedNow?.hidden).toBe(true);
  });

  it("starts the chat from its button, in English too", () => {
    const { section, on } = start({}, "en");
    const button = section.querySelector<HTMLButtonElement>("button.kp-primary");
    expect(button?.textContent).toBe("Start the chat");
    button?.click();
    expect(on.start).toHaveBeenCalledTimes(1);
  });
});

describe("the screens around the chat", () => {
  it("the closed screen says when the chat opens, or that nobody knows yet, and links to the portal", () => {
    const { root, screens } = page();
    const closed = closedScreen(screens, "/nl/");
    const section = mount(screens, root, "closed", closed.section);
    closed.show(OPENS_AT);
    expect(section.hidden).toBe(false);
    expect(section.textContent).toContain(translate("nl", "closed_text", { when: formatOpening(OPENS_AT, "nl") ?? "" }));
    closed.show(null);
    expect(section.textContent).toContain("We weten nog niet wanneer de chat weer opengaat.");
    const link = section.querySelector("a");
    expect([link?.getAttribute("href"), link?.target]).toEqual(["/nl/", "_top"]);
  });

  it("the error screen shows the error, moves focus to it, and tries again on request", () => {
    const { root, screens } = page();
    const retry = vi.fn();
    const error = errorScreen(screens, { retry });
    const section = mount(screens, root, "error", error.section);
    error.show("error_busy");
    expect(section.hidden).toBe(false);
    expect(document.activeElement?.textContent).toBe("Het is nu erg druk. Probeer het over een paar minuten opnieuw.");
    section.querySelector("button")?.click();
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it("the ended screen offers a new chat", () => {
    const { root, screens } = page();
    const newChat = vi.fn();
    const section = mount(screens, root, "ended", endedScreen(screens, "/api/v1", { newChat }).section);
    expect(section.querySelector("h1")?.textContent).toBe("Het gesprek is gestopt");
    section.querySelector<HTMLElement>('button[data-t="new_chat"]')?.click();
    expect(newChat).toHaveBeenCalledTimes(1);
  });

  const OFFER = {
    ticket: "t1",
    questions: [
      {
        id: "helped",
        text: { nl: "Had je iets aan dit gesprek?", en: "Did this conversation help you?" },
        answers: [
          { id: "yes", label: { nl: "Ja", en: "Yes" } },
          { id: "no", label: { nl: "Nee", en: "No" } },
        ],
      },
      {
        id: "again",
        text: { nl: "Zou je Keerpunt nog eens gebruiken?", en: "Would you use Keerpunt again?" },
        answers: [
          { id: "yes", label: { nl: "Ja", en: "Yes" } },
          { id: "maybe", label: { nl: "Misschien", en: "Maybe" } },
        ],
      },
    ],
  };

  afterEach(() => vi.unstubAllGlobals());

  function endedWithOffer() {
    const { root, screens } = page();
    const sent: unknown[] = [];
    vi.stubGlobal("fetch", vi.fn(async (_url: string, init: RequestInit) => {
      sent.push(JSON.parse(String(init.body)));
      return new Response(null, { status: 204 });
    }));
    const ended = endedScreen(screens, "/api/v1", { newChat: vi.fn() });
    const section = mount(screens, root, "ended", ended.section);
    return { ended, section, sent, screens };
  }

  it("after a chat that ended normally, asks the verdict's questions and sends only the ticket and the answers", async () => {
    const { ended, section, sent } = endedWithOffer();
    ended.offer(OFFER);
    ended.withCode(false);
    const form = section.querySelector<HTMLFormElement>("form.kp-feedback") as HTMLFormElement;
    expect(form.hidden).toBe(false);
    expect([...form.querySelectorAll("legend")].map((l) => l.textContent)).toEqual([
      "Had je iets aan dit gesprek?",
      "Zou je Keerpunt nog eens gebruiken?",
    ]);
    // One tap per question, by its label; a question may be left out.
    section.querySelector<HTMLLabelElement>('label[for="kp-fb-0-0"]')?.click();
    form.requestSubmit();
    await Promise.resolve();
    expect(sent).toEqual([{ ticket: "t1", answers: { helped: "yes" } }]);
    expect(form.hidden).toBe(true);
    expect(section.querySelector<HTMLElement>(".kp-feedback-thanks")?.hidden).toBe(false);
  });

  it("skipping sends the ticket with no answers, once", async () => {
    const { ended, section, sent } = endedWithOffer();
    ended.offer(OFFER);
    ended.withCode(false);
    const skip = section.querySelector<HTMLElement>('button[data-t="feedback_skip"]') as HTMLElement;
    skip.click();
    skip.click();
    await Promise.resolve();
    expect(sent).toEqual([{ ticket: "t1", answers: {} }]);
  });

  it("asks nothing without an offer, after a chat ended with a code, or after a quick exit", () => {
    for (const how of ["none", "code", "forget"] as const) {
      const { ended, section } = endedWithOffer();
      if (how !== "none") ended.offer(OFFER);
      if (how === "forget") ended.forget();
      ended.withCode(how === "code");
      expect(section.querySelector<HTMLFormElement>("form.kp-feedback")?.hidden).toBe(true);
    }
  });

  it("the questions follow the language switch", () => {
    const { ended, section, screens } = endedWithOffer();
    ended.offer(OFFER);
    ended.withCode(false);
    section.querySelector<HTMLLabelElement>('label[for="kp-fb-1-1"]')?.click();
    screens.apply("en");
    pickLanguage(screens, "en");
    const legends = [...section.querySelectorAll("legend")].map((l) => l.textContent);
    expect(legends).toContain("Did this conversation help you?");
    expect(section.querySelector<HTMLInputElement>("#kp-fb-1-1")?.checked).toBe(true);
  });
});

describe("the chat screen", () => {
  beforeEach(dialogs);

  function chat(send = (_body: string) => true) {
    const { root, screens } = page();
    const conversations = new Conversations(screens, { option: vi.fn(), retry: vi.fn(), switched: vi.fn() });
    const on = { send: vi.fn(send), typed: vi.fn(), end: vi.fn(), quickExit: vi.fn() };
    const view = chatScreen(screens, conversations, "https://weer.test/", on);
    const section = mount(screens, root, "chat", view.section);
    const q = <T extends HTMLElement>(selector: string) => section.querySelector<T>(selector) as T;
    return { view, on, conversations, section, q, screens };
  }

  it("turns off autocomplete, spellcheck and autocorrect in the composer (SECURITY.md A.6)", () => {
    const { view } = chat();
    const attributes = ["autocomplete", "autocorrect", "autocapitalize", "spellcheck"].map((a) => view.input.getAttribute(a));
    expect(attributes).toEqual(["off", "off", "off", "false"]);
    expect(view.input.maxLength).toBe(4000);
  });

  it("sends the trimmed text on Enter and empties the composer, not on Shift+Enter or blank text", () => {
    const { view, on } = chat();
    view.input.value = "   ";
    view.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    view.input.value = "regel een";
    view.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(on.send).not.toHaveBeenCalled();
    view.input.value = "  hoi  ";
    view.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(on.send).toHaveBeenCalledWith("hoi");
    expect(view.input.value).toBe("");
  });

  it("keeps the text when there is nowhere to send it", () => {
    const { view, q } = chat(() => false);
    view.input.value = "bewaar mij";
    q<HTMLButtonElement>("button[type=submit]").click();
    expect(view.input.value).toBe("bewaar mij");
  });

  it("reports typing", () => {
    const { view, on } = chat();
    view.input.dispatchEvent(new Event("input"));
    expect(on.typed).toHaveBeenCalledTimes(1);
  });

  it("lets the composer, queue and typing lines follow the conversation shown", () => {
    const { view, conversations, q } = chat();
    const caseRoom = conversations.open("!case", "case");
    const handover = conversations.open("!h", "handover");
    view.follow(caseRoom);
    expect([view.input.disabled, q(".kp-queue").hidden, q(".kp-typing").textContent]).toEqual([false, false, ""]);
    handover.closed = true;
    handover.typing = ["Hulpverlener"];
    view.follow(handover);
    expect(view.input.disabled).toBe(true);
    expect(q<HTMLButtonElement>("button[type=submit]").disabled).toBe(true);
    expect(q(".kp-queue").hidden).toBe(true);
    expect(q(".kp-typing").textContent).toBe("Hulpverlener is aan het typen…");
    view.reset();
    expect([view.input.disabled, q(".kp-queue").hidden, q(".kp-typing").textContent]).toEqual([false, false, ""]);
  });

  it("leaves no line behind after a reset, not even after a language switch", () => {
    const { view, conversations, screens, q } = chat();
    const caseRoom = conversations.open("!case", "case");
    caseRoom.typing = ["Hulpverlener"];
    view.follow(caseRoom);
    view.showQueue({ position: 1, minutes: 5 });
    view.showBanner("untrusted");
    view.reset();
    screens.apply("en");
    expect([q(".kp-queue").textContent, q(".kp-typing").textContent, q(".kp-banner").hidden]).toEqual(["", "", true]);
  });

  it("shows and hides the banner with a text from the locale file", () => {
    const { view, q } = chat();
    view.showBanner("connection_lost");
    expect(q(".kp-banner").hidden).toBe(false);
    expect(q(".kp-banner").textContent).toBe("De verbinding is weg. We proberen opnieuw te verbinden…");
    view.hideBanner();
    expect(q(".kp-banner").hidden).toBe(true);
  });

  it("asks before ending, starting on the safe choice, and ends only on yes", () => {
    const { view, on, q } = chat();
    view.endButton.click();
    expect(q("dialog").hasAttribute("open")).toBe(true);
    expect(document.activeElement?.textContent).toBe("Nee, verder chatten");
    (document.activeElement as HTMLButtonElement).click();
    expect(q("dialog").hasAttribute("open")).toBe(false);
    expect(document.activeElement).toBe(view.endButton);
    expect(on.end).not.toHaveBeenCalled();
    view.endButton.click();
    [...q("dialog").querySelectorAll("button")].find((b) => b.textContent === "Ja, stoppen")?.click();
    expect(on.end).toHaveBeenCalledTimes(1);
  });

  it("keeps a quick exit inside the dialog that exits at once instead of following the link", () => {
    const { on, q } = chat();
    const link = q<HTMLAnchorElement>("dialog a.kp-quick-exit");
    expect([link.textContent, link.getAttribute("href"), link.rel, link.target]).toEqual(["Snel weg", "https://weer.test/", "noreferrer", "_top"]);
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(on.quickExit).toHaveBeenCalledTimes(1);
  });
});
