// Tabour counter console. The server decides; this page shows the snapshot and deltas and
// sends REST commands. Token in sessionStorage, counter per workstation in localStorage.
// An action the server could not receive (an outage) is said, kept with what the agent
// typed, and sent once when the server is back; it is dropped, and said so, when the
// ticket changed meanwhile. Every action names its ticket, so a resend can never act on
// another one.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("console-data").textContent);
  var S = DATA.strings, LANG = DATA.lang;  // data, not code: the page passes a strict CSP
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem("tabour.console.token");
  var user = JSON.parse(sessionStorage.getItem("tabour.console.user") || "null");
  var counter = parseInt(localStorage.getItem("tabour.console.counter") || "0", 10) || null;
  var live = null, snap = null, busy = false, syncTimer = null, pending = null;
  // what the console shows after an action, or after a fact about its counter, is the
  // counter's queue the server pushes (counter_queue), not a snapshot asked for: one
  // snapshot a click cost the server as much as the click itself (measured, stop 27).
  // queueSeq: the branch sequence the queue on screen reflects; awaitSeq: the one an
  // answer or a fact named, which the next push must reach (the buttons stay disabled
  // until it does after an action); if none does within PUSH_WAIT_MS, a snapshot.
  var queueSeq = 0, awaitSeq = null, awaiting = false, pushTimer = null, PUSH_WAIT_MS = 2000;
  window.tabourConsole = { actions: [] };

  var params = new URLSearchParams(location.search);
  if (params.get("lang")) document.cookie = "lang=" + params.get("lang") + "; path=/; max-age=31536000";

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function show(view) {
    ["login-view", "pick-view", "console-view"].forEach(function (v) { $(v).hidden = v !== view; });
    $("logout").hidden = view === "login-view";
    $("change-counter").hidden = view !== "console-view";
  }
  var msgTimer = null;
  function message(text, kind, sticky) {
    var m = $("message");
    m.textContent = text; m.className = "message " + (kind || "error"); m.hidden = !text;
    m.dataset.kind = text ? (kind || "error") : "";
    clearTimeout(msgTimer);
    if (text && !sticky) msgTimer = setTimeout(function () { m.hidden = true; }, 8000);
  }
  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method: method,
      // the server's refusals come back in the page's language
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token,
                 "Accept-Language": LANG },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      if (r.status === 401) { signOut(S.session_expired); throw new Error("401"); }
      if (r.status === 204) return { status: 204, body: null };
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    });
  }
  function fmt(s, v) { return String(s).replace(/\{(\w+)\}/g, function (_m, k) { return v[k]; }); }
  function actionLabel(action) {
    var b = $("actions").querySelector('[data-action="' + action + '"]');
    return b ? b.firstChild.textContent.trim() : action;
  }
  function serviceName(prefix) {
    var s = snap && snap.services.find(function (x) { return x.prefix === prefix; });
    return s ? (s.names[LANG] || s.names.fr || prefix) : prefix;
  }

  // --- sign in, counter --------------------------------------------------------------------
  function signOut(text) {
    sessionStorage.removeItem("tabour.console.token");
    sessionStorage.removeItem("tabour.console.user");
    token = null; user = null;
    if (live && live.socket) live.socket.disconnect();
    live = null;
    show("login-view");
    if (text) message(text);
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/api/v1/auth/token", {
      method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": LANG },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { message((res.body.error && res.body.error.message) || S.wrong_login); return; }
        token = res.body.token; user = res.body.user;
        sessionStorage.setItem("tabour.console.token", token);
        sessionStorage.setItem("tabour.console.user", JSON.stringify(user));
        message("");
        route();
      });
  });
  // the server revokes the token (and cuts its sockets); the page forgets it either way
  function logoutOnServer(t) {
    if (!t) return;
    fetch("/api/v1/auth/logout", { method: "POST", keepalive: true, body: "{}",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + t } })
      .catch(function () {});
  }
  $("logout").addEventListener("click", function () { logoutOnServer(token); signOut(); });
  $("change-counter").addEventListener("click", function () {
    localStorage.removeItem("tabour.console.counter"); counter = null;
    if (live && live.socket) live.socket.disconnect();
    live = null; route();
  });
  function pickCounter() {
    show("pick-view");
    api("GET", "/counters").then(function (res) {
      if (res.status !== 200) { message(res.body.error.message); return; }
      $("counter-list").innerHTML = res.body.counters.map(function (c) {
        return '<button type="button" data-counter="' + c.number + '"><b dir="ltr">' + c.number + "</b> " +
          esc(c.name) + ' <small>' + esc(S["state_" + c.state] || c.state) + " · " +
          c.services.map(function (p) { return '<span dir="ltr">' + esc(p) + "</span>"; }).join(" ") +
          "</small></button>";
      }).join("");
      var first = $("counter-list").querySelector("button");
      if (first) first.focus();
    });
  }
  $("counter-list").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-counter]");
    if (!b) return;
    counter = parseInt(b.dataset.counter, 10);
    localStorage.setItem("tabour.console.counter", String(counter));
    route();
  });
  function route() {
    $("who").textContent = user ? user.display_name : "";
    if (!token) { show("login-view"); $("username").focus(); return; }
    if (!counter) { pickCounter(); return; }
    show("console-view");
    connect();
  }

  // --- live ----------------------------------------------------------------------------------
  function connect() {
    if (live) return;
    $("counter-number").textContent = counter;
    live = new window.TabourLive({
      token: token, view: "counter", counter: counter,
      onSnapshot: function (s) { snap = s; queueSeq = s.seq; settle(true); render(); resend(); },
      onState: function (st, detail) {
        $("conn").textContent = st === "online" ? S.online : S.reconnecting;
        $("conn").dataset.state = st;
        if (st === "refused") signOut(detail);
        else if (st !== "online" && !pending) message(S.offline, "warn", true);
        else if (st === "online" && !pending && $("message").dataset.kind === "warn") message("");
      },
      handlers: {
        counter_queue: function (q) {
          // an older picture than the one shown (another server process was behind): kept out
          if (!snap || q.counter.number !== counter || q.seq < queueSeq) return;
          snap.queue = q; queueSeq = q.seq; settle(false); render();
        },
        queue_changed: function (q) { if (snap) { snap.services = q.services; render(); } },
        counter_changed: function (c) { if (c.counter === counter) expectPush(c.seq); },
        ticket_called: function (c) { if (c.counter === counter) expectPush(c.seq); },
        ticket_changed: function (c) { if (c.counter === counter || c.to_counter === counter) expectPush(c.seq); },
      },
    }).start();
  }
  function expectPush(seq) {
    // the server pushes this counter's queue after every change of the branch (to every
    // tab of the counter); if it does not come, the whole picture is asked for
    if (typeof seq !== "number") { resync(); return; }
    if (seq <= queueSeq) { settle(false); return; }
    awaitSeq = Math.max(awaitSeq || 0, seq);
    if (!pushTimer) pushTimer = setTimeout(function () {
      pushTimer = null;
      // offline: the buttons come back now; the snapshot of the reconnect brings the picture
      if (live && live.socket && live.socket.connected) resync(); else { settle(true); render(); }
    }, PUSH_WAIT_MS);
  }
  function settle(all) {
    if (!all && awaitSeq !== null && queueSeq < awaitSeq) return;
    awaitSeq = null; awaiting = false;
    clearTimeout(pushTimer); pushTimer = null;
  }
  function resync() {
    // the whole picture (a refusal, a push that did not come)
    clearTimeout(syncTimer);
    syncTimer = setTimeout(function () {
      if (!live) return;
      live.emit("sync").then(function (res) {
        if (res && res.ok) { snap = res.snapshot; queueSeq = snap.seq; }
        settle(true); render();
      });
    }, 30);
  }

  // --- rendering ------------------------------------------------------------------------------
  // the server says what this counter may do now (its transition tables); the page
  // only maps its action names onto the buttons
  var BUTTON = { call_next: "next", no_show: "no-show" };
  function allowed() {
    var q = snap && snap.queue, ok = {};
    ((q && q.allowed) || []).forEach(function (a) { ok[BUTTON[a] || a] = true; });
    return ok;
  }
  function render() {
    var q = snap.queue, ok = allowed();
    var cur = q.current;
    // a called ticket is not being served yet: the pill says which
    var pill = q.counter.state === "serving" && cur && cur.status === "called" ? "calling"
      : q.counter.state;
    $("counter-state").textContent = S["state_" + pill] || pill;
    $("counter-state").dataset.state = pill;
    $("current-code").textContent = cur ? cur.code : "—";
    $("current-status").textContent = cur ? (S["status_" + cur.status] || cur.status) : S.no_ticket;
    $("current-service").textContent = cur ? serviceName(cur.service) : "";
    $("current").dataset.ticket = cur ? cur.id : "";
    $("current").dataset.status = cur ? cur.status : "";
    document.querySelectorAll("#actions button").forEach(function (b) {
      var a = b.dataset.action;
      b.disabled = busy || awaiting || !ok[a];
      // open and resume share a key; show the one that applies
      if (a === "open") b.hidden = q.counter.state !== "closed";
      if (a === "resume") b.hidden = q.counter.state === "closed";
    });
    $("services").innerHTML = (q.services || []).map(function (s) {
      return "<tr data-prefix=\"" + esc(s.prefix) + "\"><td><b dir=\"ltr\">" + esc(s.prefix) + "</b> " +
        esc(s.names[LANG] || s.names.fr) + "</td><td class=\"num\">" + s.waiting + "</td><td class=\"num\">" +
        (s.oldest_wait_minutes == null ? "—" : s.oldest_wait_minutes + " " + S.minutes) + "</td></tr>";
    }).join("");
    $("next-list").innerHTML = q.next.slice(0, 8).map(function (t) {
      return '<li><b dir="ltr">' + esc(t.code) + "</b> " + (t.priority !== "normal" ? "★ " : "") +
        '<span class="muted">' + t.waited_minutes + " " + S.minutes + "</span></li>";
    }).join("") || "<li class=\"muted\">" + esc(S.nobody_waiting) + "</li>";
    $("parked-list").innerHTML = q.parked.map(function (t) {
      return '<li><b dir="ltr">' + esc(t.code) + '</b> <button type="button" data-return="' + t.id + '"' +
        (ok["return"] && !busy && !awaiting ? "" : " disabled") + ">" + esc($("actions").querySelector('[data-action="return"]').firstChild.textContent.trim()) + "</button></li>";
    }).join("");
    tickElapsed();
  }
  function tickElapsed() {
    var cur = snap && snap.queue && snap.queue.current;
    if (!cur) { $("current-elapsed").textContent = ""; return; }
    var since = Date.parse(cur.started_at || cur.called_at);
    var s = Math.max(0, Math.floor((Date.now() - since) / 1000));
    $("current-elapsed").textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  setInterval(tickElapsed, 1000);

  // --- actions -------------------------------------------------------------------------------
  function run(action, body) {
    if (!snap || busy || awaiting) return;
    var path = "/counters/" + counter + "/" + (action === "next" ? "call-next" : action);
    var cur = snap.queue.current;
    // name the ticket the agent sees: if another tab or counter changed it meanwhile,
    // the server refuses with a message instead of acting on a different ticket
    if (cur && ["recall", "start", "finish", "no-show", "transfer", "park"].indexOf(action) >= 0) {
      body = Object.assign({ ticket_id: cur.id }, body || {});
    }
    busy = true; render();
    window.tabourConsole.actions.push({ action: action, at: performance.timeOrigin + performance.now() });
    return send(action, path, body || {}, cur ? cur.id : null, false);
  }
  function send(action, path, body, ticketId, later) {
    return api("POST", path, body).then(function (res) {
      busy = false;
      if (res.status === 204) message(S.nobody_waiting, "info");  // nothing changed
      else if (res.status >= 400) { message(res.body.error.message); resync(); }
      else {
        message(later ? fmt(S.sent_later, { action: actionLabel(action) }) : "", "info");
        // done: the counter's push at or past the answer's seq shows it
        awaiting = true;
        expectPush(res.body && res.body.seq);
      }
      render();
    }, function (err) {
      busy = false;
      if (err && err.message === "401") return;
      // the server did not get it: say so, keep it (and what was typed), send it when back
      pending = { action: action, path: path, body: body, ticket: ticketId };
      window.tabourConsole.pending = pending;
      message(fmt(S.not_sent, { action: actionLabel(action) }), "warn", true);
      render();
    });
  }
  // a fresh snapshot after a reconnect: send what the outage held back, once, if it still
  // applies to what the counter shows (the server refuses it anyway otherwise)
  function resend() {
    // (a snapshot means the server is there: it may arrive before the "connect" event)
    if (!pending || !snap) return;
    var p = pending, cur = snap.queue.current;
    pending = null; window.tabourConsole.pending = null;
    var still = p.ticket ? (cur && cur.id === p.ticket) : (p.action !== "next" || !cur);
    if (!still) { message(fmt(S.dropped, { action: actionLabel(p.action) }), "warn"); return; }
    busy = true; render();
    send(p.action, p.path, p.body, p.ticket, true);
  }
  function act(action) {
    var ok = allowed();
    if (!ok[action] || busy || awaiting) return;
    if (action === "finish") return openFinish();
    if (action === "transfer") return openTransfer();
    if (action === "return") return run("return", { ticket_id: snap.queue.parked[0].id });
    return run(action);
  }
  $("actions").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-action]");
    if (b && !b.disabled) act(b.dataset.action);
  });
  $("parked-list").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-return]");
    if (b && !b.disabled) run("return", { ticket_id: parseInt(b.dataset["return"], 10) });
  });

  function openFinish() {
    var outcomes = snap.branch.outcomes || ["served"];
    $("finish-code").textContent = snap.queue.current.code;
    $("outcome").innerHTML = outcomes.map(function (o) {
      return '<option value="' + esc(o) + '"' + (o === "served" ? " selected" : "") + ">" +
        esc(S["outcome_" + o] || o) + "</option>";
    }).join("");
    var kept = pending && pending.action === "finish" ? pending.body : null;
    if (kept) $("outcome").value = kept.outcome;
    $("note").value = kept && kept.note ? kept.note : "";
    $("finish-dialog").showModal();
    // focus on Finish: "F then Enter" finishes with the default outcome (the select would
    // open on Enter and leave the ticket serving)
    $("finish-ok").focus();
  }
  ["finish-form", "transfer-form"].forEach(function (id) {
    $(id).addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.target.tagName === "TEXTAREA" ||
          (e.target.tagName === "BUTTON" && e.target.value === "cancel")) return;
      e.preventDefault();  // Enter on the select submits, it does not open the list
      $(id).requestSubmit($(id).querySelector('button[value="ok"]'));
    });
  });
  $("finish-form").addEventListener("submit", function (e) {
    var v = e.submitter ? e.submitter.value : "ok";
    if (v !== "ok") return;
    var note = $("note").value.trim();
    run("finish", note ? { outcome: $("outcome").value, note: note } : { outcome: $("outcome").value });
  });
  function openTransfer() {
    // the places this ticket may go now, as the server says (a fresh picture first when
    // the server is there; during an outage, the last one)
    var fresh = live && live.socket && live.socket.connected ? live.emit("sync") : Promise.resolve(null);
    fresh.then(function (res) {
      if (res && res.ok) { snap = res.snapshot; render(); }
      if (!snap.queue.current) return;
      var targets = snap.queue.transfer_targets || { services: [], counters: [] };
      $("transfer-code").textContent = snap.queue.current.code;
      $("transfer-service").innerHTML = '<option value="">—</option>' + snap.services.filter(function (s) {
        return targets.services.indexOf(s.prefix) >= 0;
      }).map(function (s) {
        return '<option value="' + esc(s.prefix) + '">' + esc(s.prefix) + " · " + esc(s.names[LANG] || s.names.fr) + "</option>";
      }).join("");
      $("transfer-counter").innerHTML = '<option value="">—</option>' + snap.counters.filter(function (c) {
        return targets.counters.indexOf(c.number) >= 0;
      }).map(function (c) {
        return '<option value="' + c.number + '">' + c.number + " · " + esc(c.name) + "</option>";
      }).join("");
      $("transfer-counter").disabled = !targets.counters.length;
      $("transfer-none").hidden = targets.counters.length > 0;
      $("transfer-none").textContent = S.no_target;
      $("transfer-dialog").showModal();
      $("transfer-service").focus();
    });
  }
  $("transfer-service").addEventListener("change", function () { if (this.value) $("transfer-counter").value = ""; });
  $("transfer-counter").addEventListener("change", function () { if (this.value) $("transfer-service").value = ""; });
  $("transfer-form").addEventListener("submit", function (e) {
    var v = e.submitter ? e.submitter.value : "ok";
    if (v !== "ok") return;
    var svc = $("transfer-service").value, ctr = $("transfer-counter").value;
    if (!svc && !ctr) return;
    run("transfer", svc ? { service: svc } : { counter: parseInt(ctr, 10) });
  });

  // keyboard: the letter on the key (e.key) for Latin layouts, the key position (e.code) for
  // Arabic layouts, so N is "next" on AZERTY, QWERTY and an Arabic keyboard alike
  var KEYS = { n: "next", r: "recall", s: "start", f: "finish", m: "no-show", t: "transfer",
               k: "park", u: "return", p: "pause", c: "close" };
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || $("console-view").hidden) return;
    if (document.querySelector("dialog[open]")) return;
    var tag = (e.target.tagName || "").toLowerCase();
    // typing in a field is not a shortcut (a field of a dialog just closed does not count)
    if ((tag === "input" || tag === "textarea" || tag === "select") &&
        !e.target.closest("dialog:not([open])")) return;
    var k = (e.key || "").toLowerCase();
    if (!/^[a-z]$/.test(k)) k = /^Key[A-Z]$/.test(e.code) ? e.code.slice(3).toLowerCase() : "";
    var action = k === "o" ? (snap && snap.queue.counter.state === "closed" ? "open" : "resume") : KEYS[k];
    if (!action) return;
    e.preventDefault();
    act(action);
  });

  route();
})();
