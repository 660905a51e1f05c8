// The rating page: keyboard scoring, drafts kept in this browser, submit with "n".
// Model text is never touched here: the page is rendered (escaped) by the server.
(function () {
  "use strict";
  var form = document.getElementById("rating-form");
  if (!form) { return; }

  var fieldsets = Array.prototype.slice.call(form.querySelectorAll("fieldset.objective"));
  var status = document.getElementById("draft-status");
  var draftKey = "rating-draft:" + form.dataset.sandbox + ":" + form.dataset.user + ":" +
    form.dataset.item;
  var active = 0;

  function say(text) { if (status) { status.textContent = text; } }

  function setActive(index) {
    if (!fieldsets.length) { return; }
    active = Math.max(0, Math.min(fieldsets.length - 1, index));
    fieldsets.forEach(function (fs, i) { fs.classList.toggle("active", i === active); });
    fieldsets[active].scrollIntoView({ block: "nearest" });
  }

  function firstUnanswered() {
    for (var i = 0; i < fieldsets.length; i++) {
      if (!fieldsets[i].querySelector("input[type=radio]:checked")) { return i; }
    }
    return -1;
  }

  function collect() {
    var draft = { values: {}, flags: [], rationale: form.elements.rationale.value };
    fieldsets.forEach(function (fs) {
      var checked = fs.querySelector("input[type=radio]:checked");
      if (checked) { draft.values[fs.dataset.key] = checked.value; }
    });
    form.querySelectorAll("input[name=flags]:checked").forEach(function (box) {
      draft.flags.push(box.value);
    });
    return draft;
  }

  function saveDraft() {
    try {
      localStorage.setItem(draftKey, JSON.stringify(collect()));
      say(form.dataset.msgSaved);
    } catch (e) {
      say("");  // storage full or disabled: the rating still works, only the draft is lost
    }
  }

  function restoreDraft() {
    var raw = null;
    try { raw = localStorage.getItem(draftKey); } catch (e) { raw = null; }
    if (!raw) { return; }
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { return; }
    var anyRestored = false;
    fieldsets.forEach(function (fs) {
      var value = draft.values && draft.values[fs.dataset.key];
      if (value === undefined || fs.querySelector("input[type=radio]:checked")) { return; }
      fs.querySelectorAll("input[type=radio]").forEach(function (radio) {
        if (radio.value === String(value)) { radio.checked = true; anyRestored = true; }
      });
    });
    (draft.flags || []).forEach(function (flag) {
      form.querySelectorAll("input[name=flags]").forEach(function (box) {
        if (box.value === flag) { box.checked = true; anyRestored = true; }
      });
    });
    if (draft.rationale && !form.elements.rationale.value) {
      form.elements.rationale.value = draft.rationale;
      anyRestored = true;
    }
    if (anyRestored) { say(form.dataset.msgRestored); }
  }

  function submitIfComplete() {
    var missing = firstUnanswered();
    if (missing >= 0) {
      setActive(missing);
      say(form.dataset.msgIncomplete);
      return;
    }
    try { localStorage.removeItem(draftKey); } catch (e) { /* nothing stored */ }
    form.submit();
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && ["text", "search", "number"].indexOf(target.type) >= 0);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key;
    if (/^[0-9]$/.test(key) && fieldsets.length) {
      var radio = fieldsets[active].querySelector('input[data-hotkey="' + key + '"]');
      if (radio) {
        event.preventDefault();
        radio.checked = true;
        saveDraft();
        setActive(active + 1);
      }
    } else if (key === "ArrowDown" || key === "j") {
      event.preventDefault();
      setActive(active + 1);
    } else if (key === "ArrowUp" || key === "k") {
      event.preventDefault();
      setActive(active - 1);
    } else if (key === "n" || key === "Enter") {
      event.preventDefault();
      submitIfComplete();
    }
  });

  form.addEventListener("change", function (event) {
    var fs = event.target.closest("fieldset.objective");
    if (fs) { setActive(fieldsets.indexOf(fs)); }
    saveDraft();
  });
  form.elements.rationale.addEventListener("input", saveDraft);
  form.addEventListener("submit", function () {
    try { localStorage.removeItem(draftKey); } catch (e) { /* nothing stored */ }
  });

  restoreDraft();
  var start = firstUnanswered();
  setActive(start >= 0 ? start : 0);
})();
