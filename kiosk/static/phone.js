// The visitor's phone: one ticket followed live by its public reference (no token).
(function (global) {
  "use strict";
  var P = global.TABOUR_PHONE, T = P.text;
  function $(id) { return document.getElementById(id); }
  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (_m, k) { return v[k]; }); }

  function render(t) {
    var waiting = t.status === "waiting";
    $("waiting").hidden = !waiting;
    if (waiting) {
      $("ahead").textContent = t.people_ahead > 0 ? t.people_ahead : T.next;
      $("wait").textContent = fmt(T.minutes, { m: t.estimated_wait_minutes || 0 });
    }
    var state = "";
    if (t.status === "called") state = fmt(T.called, { c: t.counter });
    else if (t.status === "serving") state = fmt(T.serving, { c: t.counter });
    else if (t.status === "done" || t.status === "no_show") state = T.over;
    else if (t.status === "cancelled") state = T.cancelled;
    $("state").textContent = state;
    document.body.dataset.status = t.status;
  }

  var pending = null;
  function refresh() {  // a summary says the queue moved: read our position again
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      fetch("/t/" + encodeURIComponent(P.ref) + ".json").then(function (r) { return r.json(); })
        .then(function (t) { if (t.code) render(t); }).catch(function () {});
    }, 150);
  }

  render(P.ticket);
  var socket = global.io({ transports: ["websocket"], auth: { view: "ticket", ticket: P.ref },
                           reconnectionDelayMax: 5000 });
  socket.on("connect", function () { document.documentElement.dataset.connection = "online"; });
  socket.on("disconnect", function () { document.documentElement.dataset.connection = "reconnecting"; });
  socket.on("connect_error", function () { document.documentElement.dataset.connection = "reconnecting"; });
  socket.on("snapshot", function (snap) { if (snap.ticket) render(snap.ticket); });
  ["queue_changed", "ticket_called", "ticket_changed", "counter_changed"].forEach(function (e) {
    socket.on(e, refresh);
  });
})(window);
