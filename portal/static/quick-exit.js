/*
 * Keerpunt quick exit ("Snel weg"), SECURITY.md items 1–3. No dependencies, no build step:
 * the portal loads it on every page and the chat widget can load the same file.
 *
 * - The control is a plain link (<a data-quick-exit href="…">) that works without JavaScript.
 * - With JavaScript, a click or pressing Shift three times (each press within 5 s of the last,
 *   Shift on its own; any other key resets the count) covers the page at once and replaces the
 *   current history entry with the neutral site, so Back does not return to this page.
 * - Before leaving it fires "keerpunt:quick-exit" on window, so the chat widget can log out
 *   (keepalive request) and wipe its state. Listeners must be quick and must not block.
 * - window.keerpuntQuickExit.exit() triggers it from other code.
 * The target is the link's href, or data-quick-exit-url on this script's element.
 */
(function () {
  "use strict";
  var WINDOW_MS = 5000;
  var PRESSES = 3;
  var script = document.currentScript;
  var presses = 0;
  var lastPress = 0;
  var shiftDown = false;
  var shiftUsedAsModifier = false;
  var leaving = false;

  function target() {
    var link = document.querySelector("a[data-quick-exit]");
    if (link && link.href) return link.href;
    return (script && script.getAttribute("data-quick-exit-url")) || "about:blank";
  }

  function cover() {
    var shield = document.createElement("div");
    shield.className = "quick-exit-cover";
    // Inline CSSOM styles (allowed by the CSP) so the cover works even before site.css loads.
    var s = shield.style;
    s.position = "fixed";
    s.top = s.right = s.bottom = s.left = "0";
    s.zIndex = "2147483647";
    s.background = "#fff";
    (document.body || document.documentElement).appendChild(shield);
    document.documentElement.classList.add("quick-exit-active");
    document.title = "";
  }

  function exit() {
    if (leaving) return;
    leaving = true;
    cover();
    try {
      window.dispatchEvent(new CustomEvent("keerpunt:quick-exit"));
    } catch (e) {
      /* a listener's error must never stop the exit */
    }
    window.location.replace(target());
  }

  function onKeyDown(event) {
    if (event.key === "Shift") {
      if (!event.repeat) {
        shiftDown = true;
        shiftUsedAsModifier = false;
      }
      return;
    }
    // Any other key: Shift was (or would be) a modifier, and the count starts again.
    if (shiftDown) shiftUsedAsModifier = true;
    presses = 0;
  }

  function onKeyUp(event) {
    if (event.key !== "Shift") return;
    var wasModifier = shiftUsedAsModifier;
    shiftDown = false;
    shiftUsedAsModifier = false;
    if (wasModifier) {
      presses = 0;
      return;
    }
    var now = Date.now();
    presses = presses > 0 && now - lastPress <= WINDOW_MS ? presses + 1 : 1;
    lastPress = now;
    if (presses >= PRESSES) {
      presses = 0;
      exit();
    }
  }

  function onClick(event) {
    var link = event.target && event.target.closest ? event.target.closest("a[data-quick-exit]") : null;
    if (!link) return;
    event.preventDefault();
    exit();
  }

  document.addEventListener("keydown", onKeyDown, true);
  document.addEventListener("keyup", onKeyUp, true);
  document.addEventListener("click", onClick, true);
  document.addEventListener("auxclick", onClick, true);
  window.keerpuntQuickExit = { exit: exit };
})();
