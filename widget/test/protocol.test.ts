import { describe, expect, it } from "vitest";
import { PROTOCOL, parseAppMessage, parseHostMessage } from "../src/shared/protocol";

const frame = {};
const parent = {};

describe("parseAppMessage (embed script side)", () => {
  const origin = "https://keerpunt.nl";
  it("accepts a known action from the chat frame only", () => {
    const ok = { origin, source: frame, data: { protocol: PROTOCOL, action: "minimise" } };
    expect(parseAppMessage(ok as never, origin, frame)).toEqual({ protocol: PROTOCOL, action: "minimise" });
    expect(parseAppMessage({ ...ok, origin: "https://evil.example" } as never, origin, frame)).toBeNull();
    expect(parseAppMessage({ ...ok, source: {} } as never, origin, frame)).toBeNull();
    expect(parseAppMessage(ok as never, origin, null)).toBeNull();
  });

  it("rejects unknown actions and unsafe quick-exit targets", () => {
    const base = { origin, source: frame };
    const msg = (data: unknown) => parseAppMessage({ ...base, data } as never, origin, frame);
    expect(msg({ protocol: PROTOCOL, action: "eval" })).toBeNull();
    expect(msg({ protocol: "other", action: "minimise" })).toBeNull();
    expect(msg("minimise")).toBeNull();
    expect(msg({ protocol: PROTOCOL, action: "quick-exit", url: "javascript:alert(1)" })).toBeNull();
    expect(msg({ protocol: PROTOCOL, action: "quick-exit", url: "https://weer.nl/" })).toEqual({
      protocol: PROTOCOL,
      action: "quick-exit",
      url: "https://weer.nl/",
    });
  });
});

describe("parseHostMessage (chat app side)", () => {
  const host = "https://partner.nl";
  it("accepts focus from the checked host window only", () => {
    const ok = { origin: host, source: parent, data: { protocol: PROTOCOL, action: "focus" } };
    expect(parseHostMessage(ok as never, host, parent)?.action).toBe("focus");
    expect(parseHostMessage({ ...ok, origin: "https://evil.example" } as never, host, parent)).toBeNull();
    expect(parseHostMessage({ ...ok, source: {} } as never, host, parent)).toBeNull();
    expect(parseHostMessage(ok as never, null, parent)).toBeNull();
    expect(parseHostMessage({ ...ok, data: { protocol: PROTOCOL, action: "quick-exit" } } as never, host, parent)).toBeNull();
  });
});
