// @vitest-environment jsdom
// One header on the page (issue 29): inline in the portal's own page the chat shows none of its
// own; anywhere else exactly one, whose minimise button keeps to one row as a glyph with a name.
import { describe, expect, it, vi } from "vitest";
import { ChatApp } from "../../src/app/app";
import { readConfig } from "../../src/app/config";
import { hostLink } from "../../src/app/host";
import { direction } from "../../src/app/i18n";
import { CONFIG, dialogs } from "./dom";

function makeApp(pageHeader: boolean, minimisable = false) {
  dialogs();
  document.body.replaceChildren();
  const root = document.createElement("main");
  document.body.append(root);
  const post = vi.fn();
  const app = new ChatApp({
    config: { ...CONFIG, pageHeader },
    root,
    minimisable,
    outreach: { invite: null, campaign: null },
    host: hostLink({ postMessage: post }, "https://partner.test"),
    replace: vi.fn(),
    reload: vi.fn(),
  });
  return { app, root, post };
}

describe("the chat's header", () => {
  it("is left out where the page around the chat has its own: no second language switch", () => {
    const { root } = makeApp(true);
    expect(root.querySelector("header")).toBeNull();
    expect(document.querySelectorAll("select.kp-lang")).toHaveLength(0);
    expect(root.firstElementChild?.matches("section.kp-start")).toBe(true);
  });

  it("is there, once, everywhere else, with a named minimise glyph in the launcher's frame", () => {
    const { root, post } = makeApp(false, true);
    expect(root.querySelectorAll("header")).toHaveLength(1);
    expect(root.firstElementChild?.tagName).toBe("HEADER");
    const minimise = root.querySelector<HTMLButtonElement>("header button.kp-minimise");
    expect(minimise?.textContent).toBe("");
    expect(minimise?.getAttribute("aria-label")).toBe("Chat verkleinen");
    minimise?.click();
    expect(post).toHaveBeenCalledWith({ protocol: "keerpunt-widget/1", action: "minimise" }, "https://partner.test");
  });

  it("comes from the page's config: only `page_header: true` drops it", () => {
    const page = (config: object): Document => {
      const doc = document.implementation.createHTMLDocument();
      doc.body.innerHTML = `<script type="application/json" id="keerpunt-config">${JSON.stringify(config)}</script>`;
      return doc;
    };
    expect(readConfig(page({ page_header: true })).pageHeader).toBe(true);
    expect(readConfig(page({ page_header: "yes" })).pageHeader).toBe(false);
    expect(readConfig(page({})).pageHeader).toBe(false);
  });
});

describe("the writing direction", () => {
  it("follows the language on the page, right to left for Arabic (issue 26)", () => {
    const { app } = makeApp(false);
    expect(document.documentElement.dir).toBe("ltr");
    app.screens.apply("en");
    expect(document.documentElement.dir).toBe("ltr");
    expect(direction("ar")).toBe("rtl");
    expect(direction("pl")).toBe("ltr");
  });
});
