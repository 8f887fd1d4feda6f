// Tabour live connection: one Socket.IO client per page.
// Connects with a token, applies the snapshot sent on every (re)connect, then
// deltas whose seq is newer than what the page already shows. Shows a discreet
// "reconnecting" state; the socket.io client retries forever with backoff.
(function (global) {
  "use strict";

  function TabourLive(options) {
    this.options = options; // {token, view, counter, zone, branch, lang, onSnapshot, handlers: {event: fn}, onState}
    this.seq = 0;      // the sequence the last snapshot reflects
    this.seen = {};    // deltas applied since (several server processes may interleave)
    // facts that came before the snapshot of this connection (the server puts a new
    // client in its rooms before it reads the snapshot, so nothing falls in between):
    // applied after it when newer
    this.early = null;
    this.socket = null;
  }

  TabourLive.prototype.start = function () {
    var self = this;
    var auth = { token: this.options.token, view: this.options.view,
                 lang: this.options.lang || document.documentElement.lang || undefined };
    if (this.options.counter) auth.counter = this.options.counter;
    if (this.options.zone) auth.zone = this.options.zone;
    if (this.options.branch) auth.branch = this.options.branch; // a supervisor's dashboard
    var socket = global.io({ transports: ["websocket"], auth: auth,
                             reconnectionDelayMax: 3000 });
    this.socket = socket;
    socket.on("connect", function () { self._state("online"); });
    this.early = [];
    socket.on("disconnect", function () { self.early = []; self._state("reconnecting"); });
    socket.on("connect_error", function (err) {
      // the server refused (its refusals carry a code); anything else is the network
      var refused = !!(err && err.data && err.data.code);
      self._state(refused ? "refused" : "reconnecting", err && err.message,
                  refused ? err.data.code : null);
    });
    // the server's message queue was down: facts may have been lost on the way; take a
    // fresh snapshot (reconnect), once per few seconds, after a random moment so a
    // thousand screens do not all come back at once
    var lastResync = 0;
    socket.on("resync", function () {
      if (Date.now() - lastResync < 4000) return;
      lastResync = Date.now();
      setTimeout(function () { socket.disconnect(); socket.connect(); },
                 Math.random() * 1500);
    });
    socket.on("snapshot", function (snap) {
      var early = self.early || [];
      self.early = null;
      self.seq = snap.seq;
      self.seen = {};
      if (self.options.onSnapshot) self.options.onSnapshot(snap);
      early.forEach(function (e) { self._fact(e[0], e[1]); });
    });
    Object.keys(this.options.handlers || {}).forEach(function (name) {
      socket.on(name, function (payload) {
        // a fact already in the snapshot, or already applied, is dropped; summaries
        // (queue_changed, counter_queue) are whole pictures and always applied
        var fact = payload && typeof payload.seq === "number" &&
                   name !== "queue_changed" && name !== "counter_queue";
        if (self.early) {  // before this connection's snapshot: a summary is older
          if (fact) self.early.push([name, payload]);
          return;
        }
        if (fact) self._fact(name, payload);
        else self.options.handlers[name](payload);
      });
    });
    return this;
  };

  TabourLive.prototype._fact = function (name, payload) {
    if (payload.seq <= this.seq || this.seen[payload.seq]) return;
    this.seen[payload.seq] = true;
    this.options.handlers[name](payload);
  };

  TabourLive.prototype.emit = function (name, data) {
    var socket = this.socket;
    return new Promise(function (resolve) { socket.emit(name, data || {}, resolve); });
  };

  TabourLive.prototype._state = function (state, detail, code) {
    document.documentElement.dataset.connection = state;
    if (this.options.onState) this.options.onState(state, detail, code);
  };

  global.TabourLive = TabourLive;
})(window);
