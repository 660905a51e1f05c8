// Keeps a run page's progress bar current by polling the run's API while it is active,
// then reloads once so the finished transcripts show. No model text is handled here.
(function () {
  "use strict";
  var summary = document.getElementById("run-summary");
  if (!summary) { return; }
  var active = ["queued", "running"];
  if (active.indexOf(summary.dataset.status) < 0) { return; }
  var bar = document.getElementById("run-progress");
  var text = document.getElementById("run-progress-text");
  var status = document.getElementById("run-status");
  function poll() {
    fetch(summary.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) { return; }
        bar.max = run.progress.total; bar.value = run.progress.done;
        text.textContent = run.progress.done + "/" + run.progress.total;
        status.textContent = run.status;
        status.className = "badge " + run.status;
        if (active.indexOf(run.status) < 0) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
