/* movierec: accessibility in the page (issue 32; the build's side is movierec/book/access.py).

   - A solution's toggle button is named by its solution's title ("Solution to Exercise 3.1"):
     sphinx-togglebutton names every one "Toggle hidden content".
   - The colour-mode button says the mode it is in ("Color mode: light").
   - A box that scrolls sideways (a wide table, a displayed equation, a long line of code, a
     figure kept at its readable size on a phone) shows that it does: data-mr-scroll says on
     which side more is hidden ("right", "left" or "both"; movierec.css fades that edge), and
     it takes the keyboard's focus, so that it can be scrolled without a mouse (WCAG 2.1.1).
*/
(function () {
  "use strict";

  var SCROLLERS = [
    "article .pst-scrollable-table-container",
    "article table",
    "article pre",
    "article mjx-container[display='true']",
    "article .mr-figure-scroll",
    "article .cell_output .output",
  ].join(", ");

  function nameToggles() {
    document.querySelectorAll(".admonition-title .toggle-button").forEach(function (button) {
      var title = button.closest(".admonition-title");
      var name = title ? title.textContent.replace(/\s+/g, " ").trim() : "";
      if (name) button.setAttribute("aria-label", name);
    });
  }

  function nameModeButtons() {
    var mode = document.documentElement.dataset.mode || "auto";
    var words = { light: "light", dark: "dark", auto: "as the system's" };
    document.querySelectorAll(".theme-switch-button").forEach(function (button) {
      button.setAttribute("aria-label", "Color mode: " + (words[mode] || mode));
    });
  }

  function markScroller(box) {
    var hidden = box.scrollWidth - box.clientWidth;
    if (hidden <= 1) {
      box.removeAttribute("data-mr-scroll");
      if (box.dataset.mrFocus) {
        box.removeAttribute("tabindex");
        delete box.dataset.mrFocus;
      }
      return;
    }
    var left = box.scrollLeft > 1;
    var right = box.scrollLeft < hidden - 1;
    box.setAttribute("data-mr-scroll", left && right ? "both" : left ? "left" : right ? "right" : "none");
    if (!box.hasAttribute("tabindex") || box.getAttribute("tabindex") === "-1") {
      box.setAttribute("tabindex", "0");
      box.dataset.mrFocus = "1";
    }
  }

  function markScrollers() {
    document.querySelectorAll(SCROLLERS).forEach(function (box) {
      markScroller(box);
      if (!box.dataset.mrWatched) {
        box.dataset.mrWatched = "1";
        box.addEventListener("scroll", function () { markScroller(box); }, { passive: true });
      }
    });
  }

  var pending = null;
  function later() {
    clearTimeout(pending);
    pending = setTimeout(markScrollers, 150);
  }

  function start() {
    nameToggles();
    nameModeButtons();
    markScrollers();
    new MutationObserver(nameModeButtons).observe(document.documentElement, {
      attributes: true, attributeFilter: ["data-mode"],
    });
    window.addEventListener("resize", later);
    window.addEventListener("load", function () { nameToggles(); markScrollers(); });
    document.querySelectorAll("article img").forEach(function (img) {
      if (!img.complete) img.addEventListener("load", later);
    });
    var article = document.querySelector("article");  // MathJax typesets after this runs
    if (article) new MutationObserver(later).observe(article, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setTimeout(start, 0); });
  } else {
    setTimeout(start, 0);
  }
})();
