import { describe, expect, it } from "vitest";
import { ShiftCounter } from "../src/app/keys";

function counter(): { c: ShiftCounter; fired: () => number; at: (ms: number) => void } {
  let now = 0;
  let fired = 0;
  const c = new ShiftCounter(() => (fired += 1), () => now);
  return { c, fired: () => fired, at: (ms) => (now = ms) };
}

function shift(c: ShiftCounter): void {
  c.keydown({ key: "Shift" });
  c.keyup({ key: "Shift" });
}

describe("ShiftCounter", () => {
  it("fires on the third Shift within five seconds of each other", () => {
    const { c, fired, at } = counter();
    shift(c);
    at(4900);
    shift(c);
    expect(fired()).toBe(0);
    at(9800);
    shift(c);
    expect(fired()).toBe(1);
  });

  it("starts again after a pause longer than five seconds", () => {
    const { c, fired, at } = counter();
    shift(c);
    shift(c);
    at(6000);
    shift(c);
    expect(fired()).toBe(0);
    expect(c.pressed).toBe(1);
  });

  it("does not count Shift used as a modifier, and any other key resets", () => {
    const { c, fired } = counter();
    shift(c);
    shift(c);
    c.keydown({ key: "Shift" });
    c.keydown({ key: "A" });
    c.keyup({ key: "A" });
    c.keyup({ key: "Shift" });
    expect(c.pressed).toBe(0);
    shift(c);
    c.keydown({ key: "x" });
    shift(c);
    shift(c);
    expect(fired()).toBe(0);
    shift(c);
    expect(fired()).toBe(1);
  });

  it("ignores auto-repeat while Shift is held", () => {
    const { c, fired } = counter();
    c.keydown({ key: "Shift" });
    c.keydown({ key: "Shift", repeat: true });
    c.keydown({ key: "Shift", repeat: true });
    c.keyup({ key: "Shift" });
    expect(c.pressed).toBe(1);
    expect(fired()).toBe(0);
  });
});
