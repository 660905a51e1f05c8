/* One run's live transcript: tokens as they arrive, alerts highlighted, annotations, filters.
 * Everything the model wrote is inserted as text (textContent / text nodes), never as HTML. */
(function () {
  "use strict";
  const { config, strings, el, rank, label, LiveSocket } = window.Live;
  const cfg = config();
  const text = strings();
  const sessions = cfg.sessions || {};
  const transcript = document.getElementById("transcript");
  const alertFeed = document.getElementById("alert-feed");
  const annotationFeed = document.getElementById("annotation-feed");
  const canOversee = text.canOversee === "1";
  const modelFilter = document.getElementById("filter-model");
  const scenarioFilter = document.getElementById("filter-scenario");
  const alertFilter = document.getElementById("filter-alert");

  function addOption(select, value) {
    if (!value) return;
    for (const option of select.options) if (option.value === value) return;
    const option = el("option", "", value);
    option.value = value;
    select.appendChild(option);
  }

  function learnSession(id, model, scenario) {
    const known = sessions[String(id)] || {};
    sessions[String(id)] = { model: model || known.model || "", scenario: scenario || known.scenario || "" };
    addOption(modelFilter, sessions[String(id)].model);
    addOption(scenarioFilter, sessions[String(id)].scenario);
  }
  Object.keys(sessions).forEach((id) => learnSession(id));

  function sessionBlock(id) {
    let block = transcript.querySelector('article[data-session="' + Number(id) + '"]');
    if (block) return block;
    const info = sessions[String(id)] || { model: "", scenario: "" };
    block = el("article", "session");
    block.dataset.session = String(Number(id));
    block.dataset.model = info.model;
    block.dataset.scenario = info.scenario;
    const head = el("h3", "session-head");
    head.appendChild(el("span", "session-model", info.model));
    head.appendChild(el("span", "muted session-scenario", " · " + info.scenario));
    block.appendChild(head);
    transcript.appendChild(block);
    const empty = document.getElementById("transcript-empty");
    if (empty) empty.remove();
    applyFilters();
    return block;
  }

  function turnBlock(sessionId, index, create) {
    const block = sessionBlock(sessionId);
    let turn = block.querySelector('div.turn[data-turn="' + Number(index) + '"]');
    if (turn || !create) return turn;
    turn = el("div", "turn");
    turn.dataset.turn = String(Number(index));
    turn.dataset.rank = "-1";
    turn.appendChild(el("div", "turn-label muted", label("", "turn") + " " + Number(index)));
    turn.appendChild(el("div", "modeltext user-message"));
    turn.appendChild(el("div", "modeltext assistant-message streaming"));
    turn.appendChild(el("ul", "turn-alerts"));
    turn.appendChild(el("ul", "turn-annotations"));
    block.appendChild(turn);
    return turn;
  }

  function setRunStatus(status) {
    const badge = document.getElementById("run-status");
    badge.className = "badge run-status " + status;
    badge.textContent = label("status", status);
    if (status !== "running" && status !== "queued") {
      const form = document.getElementById("halt-form");
      if (form) form.remove();
    }
  }

  function setProgress(done, total) {
    const bar = document.getElementById("run-progress");
    bar.max = Math.max(Number(total) || 1, 1);
    bar.value = Number(done) || 0;
    document.getElementById("run-count").textContent = (Number(done) || 0) + "/" + (Number(total) || 0);
  }

  function chooseForAnnotation(event) {
    const target = event.currentTarget;
    document.getElementById("annotate-turn").value = target.dataset.turnId;
    document.getElementById("annotate-target").textContent = text.annotating
      .replace("%(session)s", target.dataset.session).replace("%(turn)s", target.dataset.turn);
    document.getElementById("annotate-submit").disabled = false;
    document.getElementById("annotate-note").focus();
  }

  function severityBadge(severity) {
    const known = rank(severity) >= 0 ? severity : "info";
    return el("span", "badge sev-" + known, label("sev", known));
  }

  function markAlert(turn, severity) {
    const newRank = rank(severity);
    if (newRank > Number(turn.dataset.rank)) {
      turn.dataset.rank = String(newRank);
      turn.classList.add("has-alert");
      turn.dataset.severity = severity;
    }
  }

  function onTurnStarted(event) {
    learnSession(event.session, event.model, event.scenario);
    const turn = turnBlock(event.session, event.turn, true);
    turn.querySelector(".user-message").textContent = event.user_message || "";
  }

  function onToken(event) {
    const turn = turnBlock(event.session, event.turn, true);
    turn.querySelector(".assistant-message").appendChild(document.createTextNode(event.text || ""));
  }

  function onTurnCompleted(event) {
    const turn = turnBlock(event.session, event.turn, true);
    const answer = turn.querySelector(".assistant-message");
    if (typeof event.assistant_message === "string") answer.textContent = event.assistant_message;
    answer.classList.remove("streaming");
    turn.dataset.status = event.status || "";
    turn.dataset.turnId = String(event.turn_id || "");
    if (event.status === "halted") turn.appendChild(el("div", "turn-halted", text.haltedTurn));
    if (canOversee && event.turn_id) {
      const button = el("button", "small annotate-button", text.annotate);
      button.type = "button";
      button.dataset.turnId = String(Number(event.turn_id));
      button.dataset.session = String(Number(event.session));
      button.dataset.turn = String(Number(event.turn));
      button.addEventListener("click", chooseForAnnotation);
      turn.appendChild(button);
    }
  }

  function onAlert(event) {
    const turn = turnBlock(event.session, event.turn, true);
    markAlert(turn, event.severity);
    const item = el("li", "turn-alert");
    item.appendChild(severityBadge(event.severity));
    item.appendChild(el("span", "alert-check", " " + (event.check || "")));
    item.appendChild(el("div", "alert-message", event.message || ""));
    turn.querySelector(".turn-alerts").appendChild(item);

    const entry = el("li", "alert-item");
    entry.dataset.rank = String(rank(event.severity));
    entry.appendChild(severityBadge(event.severity));
    entry.appendChild(el("span", "", " " + text.session + " " + Number(event.session) + ", " +
      text.turn + " " + Number(event.turn)));
    entry.appendChild(el("div", "alert-check", event.check || ""));
    entry.appendChild(el("div", "alert-message", event.message || ""));
    let before = null;
    for (const other of alertFeed.children) {
      if (Number(other.dataset.rank) < rank(event.severity)) { before = other; break; }
    }
    alertFeed.insertBefore(entry, before);
    applyFilters();
  }

  function onAnnotation(event) {
    const turn = turnBlock(event.session, event.turn, true);
    const note = el("li", "turn-annotation");
    note.appendChild(severityBadge(event.severity));
    note.appendChild(el("span", "annotation-note", " " + (event.note || "")));
    turn.querySelector(".turn-annotations").appendChild(note);
    if (annotationFeed.querySelector('li[data-annotation="' + Number(event.annotation) + '"]')) return;
    const entry = el("li", "annotation");
    entry.dataset.annotation = String(Number(event.annotation));
    entry.appendChild(severityBadge(event.severity));
    entry.appendChild(el("span", "", " " + text.session + " " + Number(event.session) + ", " +
      text.turn + " " + Number(event.turn) + " · " + (event.author || "")));
    entry.appendChild(el("div", "annotation-note", event.note || ""));
    annotationFeed.appendChild(entry);
  }

  function onEvent(event) {
    switch (event.type) {
      case "run.started": setRunStatus("running"); if (event.total !== undefined) setProgress(0, event.total); break;
      case "run.progress": setProgress(event.done, event.total); break;
      case "run.completed": setRunStatus(event.status || "completed"); if (event.total !== undefined) setProgress(event.done, event.total); break;
      case "run.halted":
        setRunStatus("halted");
        document.getElementById("run-halt-reason").textContent = event.reason || "";
        break;
      case "turn.started": onTurnStarted(event); break;
      case "token": onToken(event); break;
      case "turn.completed": onTurnCompleted(event); break;
      case "alert": onAlert(event); break;
      case "annotation": onAnnotation(event); break;
      default: break;
    }
  }

  function applyFilters() {
    const model = modelFilter.value;
    const scenario = scenarioFilter.value;
    const floor = alertFilter.value ? rank(alertFilter.value) : -1;
    for (const block of transcript.querySelectorAll("article.session")) {
      const info = sessions[block.dataset.session] || {};
      const visible = (!model || info.model === model) && (!scenario || info.scenario === scenario);
      block.hidden = !visible;
      for (const turn of block.querySelectorAll("div.turn")) {
        turn.hidden = floor >= 0 && Number(turn.dataset.rank) < floor;
      }
    }
    for (const item of alertFeed.children) {
      item.hidden = floor >= 0 && Number(item.dataset.rank) < floor;
    }
  }
  [modelFilter, scenarioFilter, alertFilter].forEach((select) => select.addEventListener("change", applyFilters));

  const socket = new LiveSocket(cfg.ws, { single: cfg.run, since: {}, onEvent });
  socket.connect();
})();
