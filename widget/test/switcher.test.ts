import { describe, expect, it } from "vitest";
import { Switcher } from "../src/app/switcher";

describe("Switcher", () => {
  it("starts on the first conversation and has nothing to switch with one", () => {
    const s = new Switcher();
    expect(s.add("case")).toBe(true);
    expect(s.add("case")).toBe(false);
    expect(s.active).toBe("case");
    expect(s.switchable).toBe(false);
    s.add("handover");
    expect(s.active).toBe("case");
    expect(s.switchable).toBe(true);
  });

  it("counts messages as unread only in the conversation not shown, and clears them on switching", () => {
    const s = new Switcher();
    s.add("case");
    s.add("handover");
    expect(s.incoming("case")).toBe(0);
    expect(s.incoming("handover")).toBe(1);
    expect(s.incoming("handover")).toBe(2);
    expect(s.activate("handover")).toBe(true);
    expect(s.unread("handover")).toBe(0);
    expect(s.activate("handover")).toBe(false);
    expect(s.incoming("case")).toBe(1);
    expect(s.activate("unknown")).toBe(false);
    expect(s.active).toBe("handover");
  });

  it("moves with arrow keys (wrapping), Home and End, and ignores other keys", () => {
    const s = new Switcher();
    for (const id of ["a", "b", "c"]) s.add(id);
    expect(s.neighbour("a", "ArrowRight")).toBe("b");
    expect(s.neighbour("c", "ArrowRight")).toBe("a");
    expect(s.neighbour("a", "ArrowLeft")).toBe("c");
    expect(s.neighbour("b", "Home")).toBe("a");
    expect(s.neighbour("a", "End")).toBe("c");
    expect(s.neighbour("a", "Enter")).toBeNull();
    expect(s.neighbour("x", "ArrowRight")).toBeNull();
  });

  it("forgets everything on clear", () => {
    const s = new Switcher();
    s.add("case");
    s.add("handover");
    s.incoming("handover");
    s.clear();
    expect(s.ids).toEqual([]);
    expect(s.active).toBeNull();
    expect(s.unread("handover")).toBe(0);
  });
});
