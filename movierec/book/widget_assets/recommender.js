/* movierec in-page recommender: type films, pick a run, read the top 10 (see movierec/book/widget.py).

   Plain JavaScript, no network request: the data is the global that recommender-data.js sets
   (loaded with <script src>, so the page also works opened from disk). The title rules mirror
   movierec/data/titles.py, its close spellings ("did you mean") included, and the scores
   movierec.judging.recommend; tests/test_widget.py checks them against Python. */
(function () {
  "use strict";

  var ELEMENT_ID = "try-recommender";
  var DATA_GLOBAL = "movierecRecommenderData";
  var DATA_FORMAT = 1;
  var MAX_CHOSEN = 5;
  var TOP_N = 10;
  var MAX_SUGGESTIONS = 8;
  var MIN_SUBSTRING = 3; // as TitleIndex.candidates: substrings count from 3 characters
  var CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // The characters Python's str.isspace() accepts (its split() and strip() use them).
  var SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var RANKS = ["exact", "prefix", "words", "substring"];
  // TitleIndex.suggestions: difflib.get_close_matches(normalize(text)[:200], forms, n=20, cutoff=0.6),
  // then the titles of those forms, each once, at most 5.
  var CLOSE_LENGTH = 200;
  var CLOSE_CANDIDATES = 20;
  var CLOSE_CUTOFF = 0.6;
  var CLOSE_SHOWN = 5;

  /* ---- Title rules: movierec/titles.py, step by step ---------------------------------- */

  function titleRules(data) {
    var spaces = new RegExp("[" + SPACE + "]+", "u");
    var edges = new RegExp("^[" + SPACE + "]+|[" + SPACE + "]+$", "gu");
    var ascii = /^[\x00-\x7f]*$/;
    var hex = function (point) { return "\\u{" + point.toString(16) + "}"; };
    var combining = new RegExp(
      "[" + data.combining.map(function (range) {
        return range[0] === range[1] ? hex(range[0]) : hex(range[0]) + "-" + hex(range[1]);
      }).join("") + "]",
      "gu"
    );
    var folds = new Map(Object.entries(data.casefold));
    var year = new RegExp("[" + SPACE + "]*\\((\\p{Nd}{4})(?:[-\u2013]\\p{Nd}{0,4})?\\)[" + SPACE + "]*$", "u");
    var parentheses = new RegExp("[" + SPACE + "]*\\(([^()]*)\\)[" + SPACE + "]*$", "u");
    var aka = new RegExp("^(?:a\\.k\\.a\\.|aka)[" + SPACE + "]+", "iu");
    var escape = function (text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); };
    var trailingArticle = new RegExp("^(.+), (" + data.articles.map(escape).join("|") + ")$", "iu");
    var word = /[\p{L}\p{N}_]+/gu;

    function strip(text) { return text.replace(edges, ""); }

    function casefold(text) {
      if (ascii.test(text)) return text.toLowerCase();
      var folded = "";
      for (var char of text) folded += folds.has(char) ? folds.get(char) : char.toLowerCase();
      return folded;
    }

    // titles.normalize: NFKD, combining marks dropped, casefold, whitespace collapsed.
    function normalize(text) {
      var bare = String(text).normalize("NFKD").replace(combining, "");
      return casefold(bare).split(spaces).filter(Boolean).join(" ");
    }

    function splitYear(title) {
      var match = year.exec(title);
      return match ? [title.slice(0, match.index), match[1]] : [title, null];
    }

    function splitAlternates(body) {
      var alternates = [];
      var match;
      while ((match = parentheses.exec(body)) && match.index > 0) {
        alternates.unshift(strip(match[1].replace(aka, "")));
        body = body.slice(0, match.index);
      }
      return [strip(body)].concat(alternates.filter(Boolean));
    }

    function nameForms(name) {
      var forms = [name];
      var moved = trailingArticle.exec(strip(name));
      if (moved) {
        var joiner = moved[2].endsWith("'") ? "" : " ";
        forms.push(moved[2] + joiner + moved[1], moved[1]);
      }
      return forms.map(normalize);
    }

    function titleForms(title) {
      var parts = splitYear(title);
      var forms = new Set([normalize(title), normalize(parts[0])]);
      splitAlternates(parts[0]).forEach(function (name) {
        nameForms(name).forEach(function (form) { forms.add(form); });
      });
      if (parts[1]) {
        var suffix = "(" + parts[1] + ")";
        Array.from(forms).forEach(function (form) {
          if (!form.endsWith(suffix)) forms.add(form + " " + suffix);
        });
      }
      return Array.from(forms).sort();
    }

    function words(text) { return text.match(word) || []; }

    return { strip: strip, normalize: normalize, titleForms: titleForms, words: words };
  }

  function containsWords(form, query) {
    for (var start = 0; start + query.length <= form.length; start++) {
      var all = true;
      for (var k = 0; k < query.length && all; k++) all = form[start + k] === query[k];
      if (all) return true;
    }
    return false;
  }

  function push(map, key, value) {
    var list = map.get(key);
    if (list) list.push(value); else map.set(key, [value]);
  }

  /* ---- Close spellings: Python's difflib, step by step --------------------------------- */

  function codePoints(text) {
    return Array.from(text, function (char) { return char.codePointAt(0); });
  }

  // Python compares strings by code point (JavaScript's < by UTF-16 unit).
  function comparePoints(a, b) {
    for (var i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }

  // SequenceMatcher(None, a, b) for one b: where each element of b is, less the "popular"
  // ones when b has 200 elements or more (autojunk), and how often each element occurs.
  function matcherFor(b) {
    var where = new Map();
    var counts = new Map();
    b.forEach(function (element, j) {
      push(where, element, j);
      counts.set(element, (counts.get(element) || 0) + 1);
    });
    if (b.length >= 200) {
      var most = Math.floor(b.length / 100) + 1;
      Array.from(where.keys()).forEach(function (element) {
        if (where.get(element).length > most) where.delete(element);
      });
    }
    return { b: b, where: where, counts: counts };
  }

  // SequenceMatcher.find_longest_match (no junk, so only the non-junk extensions apply).
  function longestMatch(a, matcher, alo, ahi, blo, bhi) {
    var b = matcher.b;
    var besti = alo, bestj = blo, bestsize = 0;
    var lengths = new Map();
    for (var i = alo; i < ahi; i++) {
      var next = new Map();
      var places = matcher.where.get(a[i]) || [];
      for (var x = 0; x < places.length; x++) {
        var j = places[x];
        if (j < blo) continue;
        if (j >= bhi) break;
        var k = (lengths.get(j - 1) || 0) + 1;
        next.set(j, k);
        if (k > bestsize) { besti = i - k + 1; bestj = j - k + 1; bestsize = k; }
      }
      lengths = next;
    }
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) { besti--; bestj--; bestsize++; }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] === b[bestj + bestsize]) {
      bestsize++;
    }
    return [besti, bestj, bestsize];
  }

  // The elements of get_matching_blocks, summed: what ratio() counts.
  function matchingElements(a, matcher) {
    var total = 0;
    var queue = [[0, a.length, 0, matcher.b.length]];
    while (queue.length) {
      var span = queue.pop();
      var found = longestMatch(a, matcher, span[0], span[1], span[2], span[3]);
      var i = found[0], j = found[1], k = found[2];
      if (!k) continue;
      total += k;
      if (span[0] < i && span[2] < j) queue.push([span[0], i, span[2], j]);
      if (i + k < span[1] && j + k < span[3]) queue.push([i + k, span[1], j + k, span[3]]);
    }
    return total;
  }

  function ratio(matches, length) { return length ? 2.0 * matches / length : 1.0; }

  // SequenceMatcher.quick_ratio: elements in common, counted as a multiset.
  function quickRatio(a, matcher) {
    var left = new Map();
    var matches = 0;
    for (var i = 0; i < a.length; i++) {
      var have = left.has(a[i]) ? left.get(a[i]) : matcher.counts.get(a[i]) || 0;
      left.set(a[i], have - 1);
      if (have > 0) matches++;
    }
    return ratio(matches, a.length + matcher.b.length);
  }

  // difflib.get_close_matches(word, possibilities, n, cutoff): indices of the best n
  // possibilities, by ratio and then, as Python's (score, text) tuples sort, by text, both
  // highest first. real_quick_ratio and quick_ratio are upper bounds of ratio: filters only.
  function closeMatches(word, possibilities, n, cutoff) {
    var matcher = matcherFor(word);
    var found = [];
    possibilities.forEach(function (a, index) {
      var length = a.length + word.length;
      if (ratio(Math.min(a.length, word.length), length) < cutoff) return;
      if (quickRatio(a, matcher) < cutoff) return;
      var score = ratio(matchingElements(a, matcher), length);
      if (score >= cutoff) found.push({ score: score, index: index, text: a });
    });
    found.sort(function (x, y) { return y.score - x.score || comparePoints(y.text, x.text); });
    return found.slice(0, n).map(function (entry) { return entry.index; });
  }

  /* ---- Catalogue: titles, genres, popularity, forms ----------------------------------- */

  function catalogue(data, rules) {
    var titles = data.titles.split("\n");
    var genreCodes = data.genres.split(",");
    var byTitle = new Map();
    var byForm = new Map();
    titles.forEach(function (title, row) {
      push(byTitle, title, row);
      rules.titleForms(title).forEach(function (form) { push(byForm, form, row); });
    });
    var forms = Array.from(byForm.keys());
    var formWords = forms.map(rules.words);

    function genres(row) {
      return Array.from(genreCodes[row]).map(function (code) {
        return data.genreNames[CODE_ALPHABET.indexOf(code)];
      });
    }

    function popularity(row) { return CODE_ALPHABET.indexOf(data.popularity[row]); }

    // TitleIndex.candidates: exact title, then a whole form, then whole words, then a substring.
    function candidates(text) {
      var exact = byTitle.get(rules.strip(String(text)));
      if (exact) return exact.slice();
      var typed = rules.normalize(text);
      if (byForm.has(typed)) return byForm.get(typed).slice();
      var query = rules.words(typed);
      var long = Array.from(typed).length >= MIN_SUBSTRING;
      var tiers = [
        function (i) { return query.length > 0 && containsWords(formWords[i], query); },
        function (i) { return long && forms[i].includes(typed); },
      ];
      for (var t = 0; t < tiers.length; t++) {
        var rows = new Set();
        for (var i = 0; i < forms.length; i++) {
          if (tiers[t](i)) byForm.get(forms[i]).forEach(function (row) { rows.add(row); });
        }
        if (rows.size) return Array.from(rows).sort(function (a, b) { return a - b; });
      }
      return [];
    }

    // Suggestions: each row at its best rank (exact, prefix, words, substring), the more
    // liked first within a rank, then by title.
    function suggest(text) {
      var typed = rules.normalize(text);
      if (!typed) return [];
      var best = new Map();
      (byTitle.get(rules.strip(String(text))) || []).forEach(function (row) { best.set(row, 0); });
      var query = rules.words(typed);
      var long = Array.from(typed).length >= MIN_SUBSTRING;
      for (var i = 0; i < forms.length; i++) {
        var form = forms[i];
        var rank;
        if (form === typed) rank = 0;
        else if (form.startsWith(typed)) rank = 1;
        else if (query.length && form.includes(query[0]) && containsWords(formWords[i], query)) rank = 2;
        else if (long && form.includes(typed)) rank = 3;
        else continue;
        byForm.get(form).forEach(function (row) {
          if (!best.has(row) || best.get(row) > rank) best.set(row, rank);
        });
      }
      return Array.from(best, function (entry) {
        return { row: entry[0], rank: RANKS[entry[1]], order: entry[1] };
      }).sort(function (a, b) {
        return (
          a.order - b.order ||
          popularity(b.row) - popularity(a.row) ||
          (titles[a.row] < titles[b.row] ? -1 : titles[a.row] > titles[b.row] ? 1 : 0) ||
          a.row - b.row
        );
      });
    }

    // TitleIndex.suggestions: the titles whose forms are closest to the typed text (rows, the
    // first of each title).
    var formPoints = null;
    function closeSpellings(text) {
      formPoints = formPoints || forms.map(codePoints);
      var typed = codePoints(rules.normalize(text)).slice(0, CLOSE_LENGTH);
      var rows = [];
      var seen = new Set();
      closeMatches(typed, formPoints, CLOSE_CANDIDATES, CLOSE_CUTOFF).forEach(function (index) {
        byForm.get(forms[index]).forEach(function (row) {
          if (!seen.has(titles[row])) { seen.add(titles[row]); rows.push(row); }
        });
      });
      return rows.slice(0, CLOSE_SHOWN);
    }

    return {
      titles: titles, genres: genres, candidates: candidates, suggest: suggest, closeSpellings: closeSpellings,
    };
  }

  /* ---- Scores: movierec.recommend on the int8 vectors --------------------------------- */

  function decodeRun(run, count) {
    var binary = atob(run.vectors);
    var codes = new Int8Array(binary.length);
    for (var i = 0; i < binary.length; i++) codes[i] = binary.charCodeAt(i);
    var dim = run.dim;
    var norms = new Float64Array(count);
    for (var j = 0; j < count; j++) {
      var sum = 0;
      for (var k = j * dim; k < (j + 1) * dim; k++) sum += codes[k] * codes[k];
      norms[j] = Math.sqrt(sum);
    }
    return { codes: codes, norms: norms, dim: dim };
  }

  // Mean cosine to the inputs with a non-zero vector; inputs left out; ties by movies order.
  // Returns null when every input has a zero vector.
  function recommend(vectors, rows, topN) {
    var codes = vectors.codes, norms = vectors.norms, dim = vectors.dim, count = norms.length;
    var usable = rows.filter(function (row) { return norms[row] > 0; });
    if (!usable.length) return null;
    var scores = new Float64Array(count);
    usable.forEach(function (input) {
      var base = input * dim;
      for (var j = 0; j < count; j++) {
        if (norms[j] === 0) continue;
        var dot = 0;
        for (var k = 0, at = j * dim; k < dim; k++) dot += codes[base + k] * codes[at + k];
        scores[j] += dot / (norms[input] * norms[j]);
      }
    });
    var inputs = new Set(rows);
    var top = [];
    for (var j = 0; j < count; j++) {
      if (inputs.has(j)) continue;
      var score = scores[j] / usable.length;
      if (top.length === topN && score <= top[topN - 1].score) continue;
      var at = top.length;
      while (at > 0 && top[at - 1].score < score) at--;
      top.splice(at, 0, { row: j, score: score });
      if (top.length > topN) top.pop();
    }
    return top;
  }

  /* ---- The widget ---------------------------------------------------------------------- */

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function listed(names) {
    if (names.length <= 2) return names.join(" and ");
    return names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
  }

  function build(root, data) {
    var rules = titleRules(data);
    var movies = catalogue(data, rules);
    var decoded = new Map();
    var chosen = [];
    var suggestions = [];
    var active = -1;
    var id = function (part) { return ELEMENT_ID + "-" + part; };

    root.textContent = "";
    var intro = element("p", { class: "movierec-intro", id: id("intro") },
      "Choose up to " + MAX_CHOSEN + " films you like; the list shows the " + TOP_N +
      " movies whose embeddings point the most the same way, computed in this page.");
    var field = element("div", { class: "movierec-field" });
    var input = element("input", {
      id: id("input"), type: "text", role: "combobox", "aria-label": "Movie title",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id("suggestions"),
      "aria-describedby": id("keys"), autocomplete: "off", spellcheck: "false",
      placeholder: "Type a title, e.g. Toy Story",
    });
    var listbox = element("ul", { id: id("suggestions"), role: "listbox", "aria-label": "Suggested titles" });
    listbox.hidden = true;
    field.append(input, listbox);
    var keys = element("p", { class: "movierec-keys", id: id("keys") },
      "Arrow keys move through the suggestions, Enter chooses, Escape closes them; " +
      "Backspace in the empty box removes the last title.");
    var message = element("p", { class: "movierec-message", "aria-live": "polite" });
    var chosenList = element("ul", { class: "movierec-chosen", "aria-label": "Chosen titles" });
    var picker = element("p", { class: "movierec-run" });
    var select = element("select", { id: id("run") });
    data.runs.forEach(function (run, number) {
      select.append(element("option", { value: String(number) }, run.label));
    });
    picker.append(element("label", { for: id("run") }, "Run "), select);
    var status = element("p", { class: "movierec-status", role: "status", "aria-live": "polite" });
    var results = element("ol", { class: "movierec-results", "aria-label": "Recommended movies" });
    var note = element("p", { class: "movierec-note" });
    root.append(intro, field, keys, message, chosenList, picker, status, results, note);

    function vectors(number) {
      if (!decoded.has(number)) decoded.set(number, decodeRun(data.runs[number], data.count));
      return decoded.get(number);
    }

    function closeList() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function showActive() {
      Array.from(listbox.children).forEach(function (option, number) {
        option.setAttribute("aria-selected", number === active ? "true" : "false");
        if (number === active) {
          input.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      });
    }

    function openList() {
      listbox.textContent = "";
      suggestions.forEach(function (suggestion, number) {
        var option = element("li", {
          id: id("option-" + number), role: "option", "aria-selected": "false",
          "data-row": String(suggestion.row), "data-rank": suggestion.rank,
        }, movies.titles[suggestion.row]);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(suggestion.row); });
        listbox.append(option);
      });
      if (!suggestions.length) return closeList();
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = 0;
      showActive();
    }

    function update() {
      var typed = input.value;
      message.textContent = "";
      if (!rules.normalize(typed)) { suggestions = []; return closeList(); }
      if (chosen.length >= MAX_CHOSEN) {
        suggestions = [];
        message.textContent = MAX_CHOSEN + " titles chosen: remove one to add another.";
        return closeList();
      }
      var unchosen = function (suggestion) { return chosen.indexOf(suggestion.row) < 0; };
      suggestions = movies.suggest(typed).filter(unchosen).slice(0, MAX_SUGGESTIONS);
      if (!suggestions.length) {
        // As the command line does: the close spellings, offered to choose from.
        suggestions = movies.closeSpellings(typed).map(function (row) {
          return { row: row, rank: "close" };
        }).filter(unchosen);
        var nearest = suggestions.map(function (suggestion) { return movies.titles[suggestion.row]; });
        message.textContent = "No title matches \u201c" + typed.trim() + "\u201d" +
          (nearest.length ? ": did you mean " + nearest.join("; ") + "?" : ".");
      }
      openList();
    }

    function choose(row) {
      if (chosen.indexOf(row) < 0 && chosen.length < MAX_CHOSEN) chosen.push(row);
      input.value = "";
      suggestions = [];
      closeList();
      render();
    }

    // Focus goes to the next title's button (the box when none is left, or when asked).
    function remove(row, focusInput) {
      var at = chosen.indexOf(row);
      if (at < 0) return;
      chosen.splice(at, 1);
      message.textContent = "Removed " + movies.titles[row] + ".";
      render();
      var buttons = chosenList.querySelectorAll("button");
      (focusInput ? input : buttons[Math.min(at, buttons.length - 1)] || input).focus();
    }

    function renderChosen() {
      chosenList.textContent = "";
      chosen.forEach(function (row) {
        var item = element("li", { "data-row": String(row) });
        var button = element("button", { type: "button", "aria-label": "Remove " + movies.titles[row] }, "\u00d7");
        button.addEventListener("click", function () { remove(row); });
        button.addEventListener("keydown", function (event) {
          if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); remove(row); }
        });
        item.append(element("span", { class: "movierec-chosen-title" }, movies.titles[row]), button);
        chosenList.append(item);
      });
    }

    function render() {
      renderChosen();
      results.textContent = "";
      var run = data.runs[Number(select.value)];
      note.textContent = "Scores are mean cosine similarities of the run\u2019s embeddings, stored as " +
        "8-bit integers: each is within " + run.scoreError.toFixed(4) + " of the exact score.";
      if (!chosen.length) {
        status.textContent = "Choose a film to see its recommendations.";
        return;
      }
      var top = recommend(vectors(Number(select.value)), chosen, TOP_N);
      var names = chosen.map(function (row) { return movies.titles[row]; });
      if (top === null) {
        status.textContent = listed(names) + ": no one liked " + (names.length > 1 ? "these" : "it") +
          ", so there is no direction to compare with; add a title users liked.";
        return;
      }
      top.forEach(function (entry) {
        var item = element("li", { "data-row": String(entry.row), "data-score": String(entry.score) });
        item.append(
          element("span", { class: "movierec-title" }, movies.titles[entry.row]),
          " ",
          element("span", { class: "movierec-score", title: "mean cosine similarity" }, entry.score.toFixed(3)),
          " ",
          element("span", { class: "movierec-genres" }, movies.genres(entry.row).join(", "))
        );
        results.append(item);
      });
      status.textContent = "Top " + top.length + " for " + listed(names) + ", run " + run.label + ".";
    }

    input.addEventListener("input", update);
    input.addEventListener("blur", closeList);
    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden && suggestions.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!open) { update(); return; }
        var step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + suggestions.length) % suggestions.length;
        showActive();
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); choose(suggestions[active].row); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); closeList(); }
        else if (input.value) { event.preventDefault(); input.value = ""; message.textContent = ""; }
      } else if (event.key === "Backspace" && !input.value && chosen.length) {
        event.preventDefault();
        remove(chosen[chosen.length - 1], true);
      }
    });
    select.addEventListener("change", render);

    var initial = [];
    try { initial = JSON.parse(root.getAttribute("data-titles") || "[]"); } catch (error) { initial = []; }
    initial.forEach(function (title) {
      var rows = movies.candidates(title);
      if (rows.length === 1 && chosen.indexOf(rows[0]) < 0 && chosen.length < MAX_CHOSEN) chosen.push(rows[0]);
    });
    render();

    return {
      normalize: rules.normalize,
      titleForms: rules.titleForms,
      words: rules.words,
      candidates: movies.candidates,
      suggest: movies.suggest,
      closeSpellings: movies.closeSpellings,
      titles: movies.titles,
      recommend: function (runNumber, rows) { return recommend(vectors(runNumber), rows, TOP_N); },
    };
  }

  function start() {
    var root = document.getElementById(ELEMENT_ID);
    if (!root) return;
    var data = window[DATA_GLOBAL];
    var problem = !data
      ? "The recommender\u2019s data (recommender-data.js) did not load: rebuild the book with `movierec book`."
      : data.format !== DATA_FORMAT
        ? "The recommender\u2019s data was written by another movierec version: rebuild the book."
        : null;
    if (problem) {
      root.textContent = "";
      root.append(element("p", { class: "movierec-message" }, problem));
      return;
    }
    window.movierecRecommender = build(root, data);
    root.setAttribute("data-ready", "true");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
