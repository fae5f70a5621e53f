// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { hostLink } from "../../src/app/host";
import { startRequest, takeOutreach } from "../../src/app/outreach";
import { TypingNotifier } from "../../src/app/typing";
import { PROTOCOL } from "../../src/shared/protocol";

describe("takeOutreach", () => {
  it("reads the code and campaign once and drops them from the address", () => {
    const replace = vi.fn();
    const outreach = takeOutreach({ pathname: "/chat/", search: "?lang=nl&invite=ABC-123&campaign=geldezel" }, replace);
    expect(outreach).toEqual({ invite: "ABC-123", campaign: "geldezel" });
    expect(replace).toHaveBeenCalledWith("/chat/?lang=nl");
    takeOutreach({ pathname: "/chat/", search: "?invite=X" }, replace);
    expect(replace).toHaveBeenLastCalledWith("/chat/");
  });

  it("leaves the address alone without them", () => {
    const replace = vi.fn();
    expect(takeOutreach({ pathname: "/chat/", search: "?lang=en" }, replace)).toEqual({ invite: null, campaign: null });
    expect(replace).not.toHaveBeenCalled();
  });

  it("makes an outreach start request only with a code", () => {
    expect(startRequest("en", { invite: null, campaign: "geldezel" })).toEqual({ language: "en", entry: "widget", campaign: "geldezel" });
    expect(startRequest("nl", { invite: "C", campaign: null })).toEqual({ language: "nl", entry: "outreach", invite: "C" });
  });
});

describe("hostLink", () => {
  it("always names the host's origin as the target", () => {
    const parent = { postMessage: vi.fn() };
    expect(hostLink(parent, "https://partner.test").post({ protocol: PROTOCOL, action: "ready" })).toBe(true);
    expect(parent.postMessage).toHaveBeenCalledWith({ protocol: PROTOCOL, action: "ready" }, "https://partner.test");
  });

  it("sends nothing when not embedded, or without a checked host origin", () => {
    const parent = { postMessage: vi.fn() };
    expect(hostLink(null, "https://partner.test").post({ protocol: PROTOCOL, action: "ready" })).toBe(false);
    expect(hostLink(parent, null).post({ protocol: PROTOCOL, action: "minimise" })).toBe(false);
    expect(parent.postMessage).not.toHaveBeenCalled();
  });

  it("reads 'focus' only from the host's window and origin", () => {
    const parent = { postMessage: vi.fn() };
    const link = hostLink(parent, "https://partner.test");
    const data = { protocol: PROTOCOL, action: "focus" };
    expect(link.read({ origin: "https://partner.test", source: parent as never, data })?.action).toBe("focus");
    expect(link.read({ origin: "https://evil.test", source: parent as never, data })).toBeNull();
    expect(link.read({ origin: "https://partner.test", source: {} as never, data })).toBeNull();
    expect(hostLink(null, null).read({ origin: "https://partner.test", source: parent as never, data })).toBeNull();
  });
});

describe("TypingNotifier", () => {
  afterEach(() => vi.useRealTimers());

  it("says 'typing' once per burst and 'stopped' after three quiet seconds", () => {
    vi.useFakeTimers();
    const send = vi.fn();
    const typing = new TypingNotifier(send);
    typing.typed("!case");
    vi.advanceTimersByTime(2000);
    typing.typed("!case");
    vi.advanceTimersByTime(2999);
    expect(send.mock.calls).toEqual([["!case", true]]);
    vi.advanceTimersByTime(1);
    expect(send.mock.calls).toEqual([["!case", true], ["!case", false]]);
  });

  it("stops in one conversation when the visitor types in another", () => {
    vi.useFakeTimers();
    const send = vi.fn();
    const typing = new TypingNotifier(send);
    typing.typed("!case");
    typing.typed("!h");
    expect(send.mock.calls).toEqual([["!case", true], ["!case", false], ["!h", true]]);
  });

  it("forgets everything on reset, telling no one", () => {
    vi.useFakeTimers();
    const send = vi.fn();
    const typing = new TypingNotifier(send);
    typing.typed("!case");
    typing.reset();
    vi.advanceTimersByTime(5000);
    expect(send.mock.calls).toEqual([["!case", true]]);
  });
});
