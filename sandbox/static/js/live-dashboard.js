/* The regulator's dashboard: runs with progress, the alert feed, live from the sandbox stream. */
(function () {
  "use strict";
  const { config, el, rank, label, LiveSocket } = window.Live;
  const cfg = config();
  const sessions = cfg.sessions || {};
  const filter = cfg.filter || {};
  const runsBody = document.querySelector("#runs tbody");
  const feed = document.getElementById("alert-feed");

  function filtering() {
    return Boolean(filter.model || filter.scenario || filter.severity);
  }

  function matchesSession(sessionId) {
    const session = sessions[String(sessionId)];
    if (!session) return !filter.model && !filter.scenario;
    if (filter.model && session.model !== filter.model) return false;
    if (filter.scenario && session.scenario !== filter.scenario &&
        !String(session.scenario).startsWith(filter.scenario + "~")) return false;
    return true;
  }

  function runRow(runId, create) {
    let row = runsBody.querySelector('tr[data-run="' + Number(runId) + '"]');
    if (row || !create) return row;
    const template = document.getElementById("run-row-template");
    row = template.content.firstElementChild.cloneNode(true);
    row.dataset.run = String(Number(runId));
    const link = row.querySelector(".run-link");
    link.href = cfg.runUrl.replace(/0\/$/, Number(runId) + "/");
    link.textContent = label("", "run") + " " + Number(runId);
    runsBody.insertBefore(row, runsBody.firstChild);
    const empty = document.getElementById("no-runs");
    if (empty) empty.remove();
    return row;
  }

  function setStatus(row, status) {
    const badge = row.querySelector(".run-status");
    badge.className = "badge run-status " + status;
    badge.textContent = label("status", status);
    if (status !== "running" && status !== "queued") {
      const halt = row.querySelector(".halt-form");
      if (halt) halt.remove();
    }
  }

  function setProgress(row, done, total) {
    const bar = row.querySelector(".run-progress");
    bar.max = Math.max(Number(total) || 1, 1);
    bar.value = Number(done) || 0;
    row.querySelector(".run-count").textContent = (Number(done) || 0) + "/" + (Number(total) || 0);
  }

  function addAlert(event) {
    if (filter.severity && rank(event.severity) < rank(filter.severity)) return;
    if (!matchesSession(event.session)) return;
    const empty = document.getElementById("no-alerts");
    if (empty) empty.remove();
    const item = el("li", "alert-item fresh");
    item.dataset.rank = String(rank(event.severity));
    item.dataset.run = String(Number(event.run));
    const severity = rank(event.severity) >= 0 ? event.severity : "info";
    item.appendChild(el("span", "badge sev-" + severity, label("sev", severity)));
    const link = el("a", "", label("", "run") + " " + Number(event.run) + ", " + label("", "turn") + " " + event.turn);
    link.href = cfg.runUrl.replace(/0\/$/, Number(event.run) + "/");
    item.appendChild(document.createTextNode(" "));
    item.appendChild(link);
    const session = sessions[String(event.session)];
    if (session) item.appendChild(el("span", "muted", " " + session.model));
    item.appendChild(el("div", "alert-check", event.check));
    item.appendChild(el("div", "alert-message", event.message || ""));
    const newRank = rank(event.severity);
    let before = null;
    for (const other of feed.children) {
      if (Number(other.dataset.rank) <= newRank) { before = other; break; }
    }
    feed.insertBefore(item, before);
  }

  function onEvent(event) {
    if (event.type === "turn.started" && event.session !== undefined) {
      sessions[String(event.session)] = { run: event.run, model: event.model, scenario: event.scenario };
    }
    if (event.type === "alert") addAlert(event);
    const create = !filtering() || (event.type === "turn.started" && matchesSession(event.session));
    const row = runRow(event.run, create && event.type !== "annotation");
    if (!row) return;
    if (event.type === "turn.started" && event.model) {
      const models = row.querySelector(".run-models");
      if (!models.textContent.split(", ").includes(event.model)) {
        models.textContent = models.textContent ? models.textContent + ", " + event.model : event.model;
      }
    }
    if (event.type === "run.started") {
      setStatus(row, "running");
      if (event.total !== undefined) setProgress(row, 0, event.total);
    } else if (event.type === "run.progress") {
      setProgress(row, event.done, event.total);
    } else if (event.type === "run.completed") {
      setStatus(row, event.status || "completed");
      if (event.total !== undefined) setProgress(row, event.done, event.total);
    } else if (event.type === "run.halted") {
      setStatus(row, "halted");
    } else if (event.type === "turn.started" || event.type === "token") {
      const badge = row.querySelector(".run-status");
      if (badge.classList.contains("queued")) setStatus(row, "running");
    }
  }

  const since = {};
  Object.keys(cfg.since || {}).forEach((run) => { since[run] = cfg.since[run]; });
  new LiveSocket(cfg.ws, { since, onEvent }).connect();
})();
