// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { hostLink } from "../../src/app/host";
import { normaliseCode, splitFragment, startRequest, takeOutreach, typedCode } from "../../src/app/outreach";
import { TypingNotifier } from "../../src/app/typing";
import { PROTOCOL } from "../../src/shared/protocol";

describe("takeOutreach", () => {
  it("reads the code from the fragment and the campaign from the query, and drops both from the address at once", () => {
    const replace = vi.fn();
    const outreach = takeOutreach({ pathname: "/chat/", search: "?lang=nl&campaign=geldezel", hash: "#invite=ABCD-3467-9XYZ" }, replace);
    expect(outreach).toEqual({ invite: "ABCD-3467-9XYZ", campaign: "geldezel" });
    expect(replace).toHaveBeenCalledExactlyOnceWith("/chat/?lang=nl");
    expect(takeOutreach({ pathname: "/chat/", search: "", hash: "#invite=X" }, replace)).toEqual({ invite: "X", campaign: null });
    expect(replace).toHaveBeenLastCalledWith("/chat/");
  });

  it("ignores a code in the query string (it reached a server) but still removes it", () => {
    const replace = vi.fn();
    const outreach = takeOutreach({ pathname: "/chat/", search: "?invite=ABC-123&lang=en", hash: "" }, replace);
    expect(outreach).toEqual({ invite: null, campaign: null });
    expect(replace).toHaveBeenCalledExactlyOnceWith("/chat/?lang=en");
  });

  it("keeps the rest of the fragment as it was, and an empty code is no code", () => {
    const replace = vi.fn();
    expect(takeOutreach({ pathname: "/c", search: "?lang=nl", hash: "#main&invite=K7%20M&x=1" }, replace).invite).toBe("K7 M");
    expect(replace).toHaveBeenLastCalledWith("/c?lang=nl#main&x=1");
    expect(takeOutreach({ pathname: "/c", search: "", hash: "#invite=" }, replace).invite).toBeNull();
    expect(replace).toHaveBeenLastCalledWith("/c");
  });

  it("leaves the address alone without them", () => {
    const replace = vi.fn();
    expect(takeOutreach({ pathname: "/chat/", search: "?lang=en", hash: "" }, replace)).toEqual({ invite: null, campaign: null });
    expect(takeOutreach({ pathname: "/chat/", search: "", hash: "#top" }, replace)).toEqual({ invite: null, campaign: null });
    expect(takeOutreach({ pathname: "/chat/", search: "", hash: "#noinvite=1" }, replace)).toEqual({ invite: null, campaign: null });
    expect(replace).not.toHaveBeenCalled();
  });

  it("splits a fragment into the code and the rest", () => {
    expect(splitFragment("#invite=A")).toEqual({ invite: "A", rest: "" });
    expect(splitFragment("invite=A&b")).toEqual({ invite: "A", rest: "#b" });
    expect(splitFragment("#x")).toEqual({ invite: null, rest: "#x" });
    expect(splitFragment("")).toEqual({ invite: null, rest: "" });
  });

  it("makes an outreach start request only with a code; a typed code wins over the link's", () => {
    expect(startRequest("en", { invite: null, campaign: "geldezel" })).toEqual({ language: "en", entry: "widget", campaign: "geldezel" });
    expect(startRequest("nl", { invite: "KX7M-3P9Q-AW4D", campaign: null })).toEqual({ language: "nl", entry: "outreach", invite: "KX7M-3P9Q-AW4D" });
    expect(startRequest("nl", { invite: "KX7M-3P9Q-AW4D", campaign: null }, "ccccdddd3333")).toEqual({ language: "nl", entry: "outreach", invite: "CCCC-DDDD-3333" });
    expect(startRequest("nl", { invite: "not a code", campaign: null })).toEqual({ language: "nl", entry: "widget" });
    expect(startRequest("nl", { invite: null, campaign: null }, null)).toEqual({ language: "nl", entry: "widget" });
    expect(typedCode("  abcd efgh-jkmn \n")).toBe("abcd efgh-jkmn");
    expect(typedCode("   ")).toBeNull();
  });

  it("puts a code in its canonical form whatever the case, spaces or dashes, and refuses what cannot be one", () => {
    expect(normaliseCode("KX7M-3P9Q-AW4D")).toBe("KX7M-3P9Q-AW4D");
    expect(normaliseCode(" kx7m 3p9q–aw4d ")).toBe("KX7M-3P9Q-AW4D");
    expect(normaliseCode("kx7m3p9qaw4d")).toBe("KX7M-3P9Q-AW4D");
    for (const bad of [null, "", "KX7M-3P9Q-AW4", "KX7M-3P9Q-AW4DD", "KX7M-3P9Q-AW40", "BX7M-3P9Q-AW4D", "KX7M/3P9Q/AW4D", "<script>"]) {
      expect(normaliseCode(bad)).toBeNull();
    }
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
