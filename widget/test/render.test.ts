// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { displayName, linkify, renderBody, safeHref } from "../src/app/render";

describe("linkify", () => {
  it("links only http and https URLs and keeps trailing punctuation outside", () => {
    expect(linkify("zie https://example.org/a. en javascript:alert(1) of data:text/html,x")).toEqual([
      { kind: "text", text: "zie " },
      { kind: "link", text: "https://example.org/a", href: "https://example.org/a" },
      { kind: "text", text: ". en javascript:alert(1) of data:text/html,x" },
    ]);
  });

  it("refuses URLs with credentials", () => {
    expect(safeHref("https://user:pw@example.org/")).toBeNull();
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("http://example.org/x")).toBe("http://example.org/x");
  });
});

describe("renderBody", () => {
  it("never parses HTML", () => {
    const p = document.createElement("p");
    renderBody(document, p, '<img src=x onerror="alert(1)"><script>alert(1)</script> https://example.org');
    expect(p.querySelectorAll("img, script").length).toBe(0);
    expect(p.textContent).toBe('<img src=x onerror="alert(1)"><script>alert(1)</script> https://example.org');
    const a = p.querySelector("a");
    expect(a?.rel).toBe("noopener noreferrer");
    expect(a?.getAttribute("href")).toBe("https://example.org/");
  });

  it("ignores bodies that are not strings", () => {
    const p = document.createElement("p");
    renderBody(document, p, { toString: () => "<b>x</b>" });
    expect(p.childNodes.length).toBe(0);
  });
});

describe("displayName", () => {
  it("drops control and direction characters, caps the length and hides Matrix IDs", () => {
    expect(displayName("Anna\u202e\u0000", "x")).toBe("Anna");
    expect(displayName("@visitor-1:server", "Hulpverlener")).toBe("Hulpverlener");
    expect(displayName("a".repeat(60), "x")).toBe("a".repeat(40) + "…");
    expect(displayName(42, "fallback")).toBe("fallback");
  });
});
