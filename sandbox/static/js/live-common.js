/* Live monitoring: the websocket client shared by the dashboard and the run view.
 * Model output is hostile data: it only ever reaches the page through textContent
 * or text nodes, never as HTML. Protocol: docs/live-protocol.md. */
(function () {
  "use strict";

  const SEVERITIES = ["info", "low", "medium", "high", "critical"];

  function strings() {
    return document.getElementById("live-strings").dataset;
  }

  function config() {
    return JSON.parse(document.getElementById("live-config").textContent);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function rank(severity) {
    return SEVERITIES.indexOf(severity);
  }

  function label(kind, value) {
    const key = kind ? kind + value.charAt(0).toUpperCase() + value.slice(1) : value;
    return strings()[key] || value;
  }

  function setState(state) {
    const node = document.getElementById("ws-state");
    if (!node) return;
    node.dataset.state = state;
    node.textContent = strings()[state] || state;
  }

  /* One websocket that reconnects with ?since= and hands over each run's events once, in order. */
  class LiveSocket {
    constructor(path, options) {
      this.path = path;
      this.single = options.single || null;  // the run id of a one-run stream
      this.last = Object.assign({}, options.since || {});
      this.onEvent = options.onEvent;
      this.failures = 0;
      this.stopped = false;
    }

    url() {
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      let query = "";
      if (this.single !== null) {
        query = "?since=" + (this.last[this.single] || 0);
      } else {
        const pairs = Object.keys(this.last).map((run) => run + ":" + this.last[run]);
        if (pairs.length) query = "?since=" + pairs.join(",");
      }
      return scheme + window.location.host + this.path + query;
    }

    connect() {
      setState(this.failures ? "reconnecting" : "connecting");
      const socket = new WebSocket(this.url());
      let opened = false;
      socket.addEventListener("open", () => {
        opened = true;
        this.failures = 0;
        setState("live");
      });
      socket.addEventListener("message", (message) => this.receive(message.data));
      socket.addEventListener("close", (event) => {
        if (this.stopped) return;
        if (event.code === 4403 || (!opened && this.failures >= 4)) {
          setState("refused");
          return;
        }
        this.failures += 1;
        setState("reconnecting");
        window.setTimeout(() => this.connect(), Math.min(500 * this.failures, 5000));
      });
      this.socket = socket;
    }

    receive(data) {
      let events;
      try {
        events = JSON.parse(data);
      } catch (error) {
        return;
      }
      if (!Array.isArray(events)) events = [events];
      for (const event of events) {
        if (event.run === undefined || event.seq === undefined) continue;  // control messages
        const last = this.last[event.run];
        if (last !== undefined && event.seq <= last) continue;
        this.last[event.run] = event.seq;
        this.onEvent(event);
      }
    }
  }

  window.Live = { SEVERITIES, strings, config, el, rank, label, setState, LiveSocket };
})();
