/*
 * The self-check "Herken jij dit?": counts ticked statements in the page and shows what they
 * may mean. It stores nothing and sends nothing: no storage, no network, no form submission.
 * Without JavaScript the page shows all three explanations instead.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-self-check]");
  if (!root) return;
  var boxes = root.querySelectorAll("input[type=checkbox]");
  var show = root.querySelector("[data-self-check-show]");
  var reset = root.querySelector("[data-self-check-reset]");
  var results = root.querySelector("[data-self-check-results]");
  var intro = root.querySelector("[data-self-check-intro]");
  var levels = root.querySelectorAll("[data-result]");

  function level() {
    var ticked = 0;
    var serious = false;
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) {
        ticked += 1;
        if (boxes[i].hasAttribute("data-serious")) serious = true;
      }
    }
    if (serious || ticked >= 3) return "many";
    return ticked > 0 ? "some" : "none";
  }

  function hideResults() {
    results.hidden = true;
  }

  function showResult() {
    var current = level();
    for (var i = 0; i < levels.length; i++) {
      levels[i].hidden = levels[i].getAttribute("data-result") !== current;
    }
    intro.hidden = true;
    results.hidden = false;
    var heading = results.querySelector("h2");
    if (heading) heading.focus();
  }

  for (var i = 0; i < boxes.length; i++) {
    boxes[i].checked = false; // never restore answers from an earlier visit
    boxes[i].addEventListener("change", hideResults);
  }
  show.hidden = false;
  reset.hidden = false;
  hideResults();
  show.addEventListener("click", showResult);
  reset.addEventListener("click", function () {
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = false;
    hideResults();
    boxes[0].focus();
  });
})();
