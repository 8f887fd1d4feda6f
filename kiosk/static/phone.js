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

  // the server pushes this ticket's place when it changes (ticket_position) and its
  // calls and changes; the page keeps no rule of its own
  var ticket = Object.assign({}, P.ticket);
  var STATUS_OF = { ticket_started: "serving", ticket_finished: "done", ticket_no_show: "no_show",
                    ticket_recycled: "waiting", ticket_transferred: "waiting",
                    ticket_parked: "parked", ticket_returned: "waiting",
                    ticket_cancelled: "cancelled", ticket_requeued: "waiting" };
  function update(changes) { Object.assign(ticket, changes); render(ticket); }

  render(ticket);
  var socket = global.io({ transports: ["websocket"], auth: { view: "ticket", ticket: P.ref },
                           reconnectionDelayMax: 5000 });
  socket.on("connect", function () { document.documentElement.dataset.connection = "online"; });
  socket.on("disconnect", function () { document.documentElement.dataset.connection = "reconnecting"; });
  socket.on("connect_error", function () { document.documentElement.dataset.connection = "reconnecting"; });
  socket.on("snapshot", function (snap) { if (snap.ticket) { ticket = snap.ticket; render(ticket); } });
  socket.on("ticket_position", update);
  var lastResync = 0;
  socket.on("resync", function () {  // the server's message queue was down: start afresh
    if (Date.now() - lastResync < 4000) return;
    lastResync = Date.now();
    setTimeout(function () { socket.disconnect(); socket.connect(); }, Math.random() * 1500);
  });
  socket.on("ticket_called", function (c) { update({ status: "called", counter: c.counter }); });
  socket.on("ticket_changed", function (c) {
    if (STATUS_OF[c.event]) update({ status: STATUS_OF[c.event], counter: c.counter });
  });
})(window);
