// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { Conversations } from "../src/app/conversations";
import type { MessageView } from "../src/app/session";
import { Screens } from "../src/app/ui";

function view(key: string, body: string, from: MessageView["from"] = "staff"): MessageView {
  return { key, from, name: null, body, state: "ok", prompt: null, status: null, notice: false };
}

function setup(): { c: Conversations; switched: ReturnType<typeof vi.fn>; screens: Screens } {
  document.body.replaceChildren();
  const screens = new Screens(document.body, "nl", false);
  const switched = vi.fn();
  const c = new Conversations(screens, { option: vi.fn(), retry: vi.fn(), switched });
  document.body.append(c.tablist, c.panels, c.announcer);
  return { c, switched, screens };
}

describe("Conversations", () => {
  it("shows no tabs for the case room alone", () => {
    const { c } = setup();
    c.open("!case", "case");
    expect(c.tablist.hidden).toBe(true);
    expect(c.get("!case")?.panel.getAttribute("role")).toBeNull();
  });

  it("adds a tab for the handover room with a neutral label, then the partner's name", () => {
    const { c, switched } = setup();
    c.open("!case", "case");
    const h = c.open("!h", "handover");
    expect(c.tablist.hidden).toBe(false);
    expect(h.name.textContent).toBe("Tweede gesprek");
    c.activate("!h");
    expect(switched).toHaveBeenCalledWith("!h");
    expect(h.tab.getAttribute("aria-selected")).toBe("true");
    expect(c.get("!case")?.panel.hidden).toBe(true);
    expect(h.panel.getAttribute("role")).toBe("tabpanel");
    expect(h.panel.getAttribute("aria-labelledby")).toBe(h.tab.id);
    c.setPartner("!h", "Veilig Thuis Utrecht");
    expect(h.name.textContent).toBe("Veilig Thuis Utrecht");
    c.setPartner("!case", "nope");
    expect(c.get("!case")?.name.textContent).toBe("Keerpunt");
  });

  it("marks and announces unread messages on the tab not shown, not one's own", () => {
    const { c } = setup();
    c.open("!case", "case");
    c.open("!h", "handover");
    c.activate("!h");
    const caseTab = c.get("!case");
    c.message("!case", view("$1", "hallo"));
    c.message("!case", view("$1", "hallo")); // an update of the same message: still one
    c.message("!case", view("t1", "van mij", "me"));
    expect(caseTab?.badge.hidden).toBe(false);
    expect(caseTab?.badge.textContent).toBe("1 nieuw");
    expect(c.announcer.textContent).toBe("Nieuw bericht in: Keerpunt");
    c.message("!case", view("$2", "nog een"));
    expect(caseTab?.badge.textContent).toBe("2 nieuw");
    c.activate("!case");
    expect(caseTab?.badge.hidden).toBe(true);
    expect(caseTab?.list.list.children).toHaveLength(3);
  });

  it("moves between tabs with the arrow keys, Home and End (roving tabindex)", () => {
    const { c } = setup();
    const caseTab = c.open("!case", "case").tab;
    const handoverTab = c.open("!h", "handover").tab;
    expect(caseTab.tabIndex).toBe(0);
    expect(handoverTab.tabIndex).toBe(-1);
    caseTab.focus();
    caseTab.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(c.active?.room).toBe("!h");
    expect(document.activeElement).toBe(handoverTab);
    expect(handoverTab.tabIndex).toBe(0);
    handoverTab.dispatchEvent(new KeyboardEvent("keydown", { key: "Home", bubbles: true }));
    expect(c.active?.room).toBe("!case");
    expect(document.activeElement).toBe(caseTab);
  });

  it("routes prompt answers to the room of the prompt", () => {
    document.body.replaceChildren();
    const screens = new Screens(document.body, "nl", false);
    const option = vi.fn();
    const c = new Conversations(screens, { option, retry: vi.fn(), switched: vi.fn() });
    document.body.append(c.tablist, c.panels);
    c.open("!case", "case");
    c.open("!h", "handover");
    c.activate("!h");
    const prompt = { id: "handover", options: [{ id: "yes", label: "Ja" }, { id: "later", label: "Later" }] };
    c.message("!case", { ...view("$p", "Mag dat?", "bot"), prompt });
    c.get("!case")?.panel.querySelector<HTMLButtonElement>("button.kp-option")?.click();
    expect(option).toHaveBeenCalledWith("!case", "handover", "yes", "Ja", expect.anything());
  });

  it("lets the newest question be answered again after 'later'", () => {
    const { c } = setup();
    c.open("!case", "case");
    const prompt = { id: "handover:h1", options: [{ id: "yes", label: "Ja" }, { id: "later", label: "Later" }] };
    c.message("!case", { ...view("$p", "Mag dat?", "bot"), prompt });
    const buttons = c.get("!case")?.panel.querySelectorAll<HTMLButtonElement>("button.kp-option") ?? [];
    for (const b of buttons) b.disabled = true;
    c.get("!case")?.list.reopen("handover");
    expect([...buttons].every((b) => !b.disabled)).toBe(true);
  });

  it("drops every conversation, message and tab on clear", () => {
    const { c } = setup();
    c.open("!case", "case");
    c.open("!h", "handover");
    c.message("!h", view("$1", "geheim"));
    c.clear();
    expect(c.all).toEqual([]);
    expect(c.tablist.children).toHaveLength(0);
    expect(c.panels.children).toHaveLength(0);
    expect(c.tablist.hidden).toBe(true);
    expect(document.body.textContent).not.toContain("geheim");
  });

  it("leaves no unread announcement behind on clear, not even after a language switch", () => {
    const { c, screens } = setup();
    c.open("!case", "case");
    c.open("!h", "handover");
    c.message("!h", view("$1", "geheim")); // the case room is shown: the handover's message is unread
    expect(c.announcer.textContent).toBe("Nieuw bericht in: Tweede gesprek");
    c.clear();
    screens.apply("en");
    expect(c.announcer.textContent).toBe("");
  });
});
