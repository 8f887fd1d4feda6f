// Tabour wall display: snapshot + deltas over Socket.IO, announcements queued and played in order.
// Announcement rule (documented in display/web/README.md): the display plays each announcement
// at most once (the announced seqs are kept in localStorage, per zone); after a reconnect it
// shows every call it missed (from the snapshot) but only plays the announcements the server
// made in the last 30 s (GET /display/announcements?after=seq): a blip misses nothing, a long
// outage does not replay stale calls.
(function () {
  "use strict";
  var L = window.TABOUR_LABELS;
  var params = new URLSearchParams(location.search);
  var zone = params.get("zone") || "";
  var hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (hash.get("token")) {
    localStorage.setItem("tabour.display.token", hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  var token = localStorage.getItem("tabour.display.token") || "";
  var storeKey = "tabour.display.announced." + (zone || "*");
  var langs = ["ar", "fr"];
  var state = { calls: [], services: [], counters: {}, zone: null, tz: null, branch: null };
  var firstSnapshot = true;
  var timeNow = function () { return performance.timeOrigin + performance.now(); };
  // what tests and the bench read: when each call was shown, what was played
  window.tabourDisplay = { shown: [], played: [], state: state };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  var SEP = '<i class="sep" aria-hidden="true"></i>';
  function dirOf(lang) { return lang === "ar" ? "rtl" : "ltr"; }
  function both(key) {
    return langs.map(function (l) {
      return '<span lang="' + l + '" dir="' + dirOf(l) + '">' + esc((L[l] || L.fr)[key]) + "</span>";
    }).join(SEP);
  }
  function applyLabels() {
    document.documentElement.lang = langs[0];
    document.documentElement.dir = dirOf(langs[0]);
    document.querySelectorAll("[data-label]").forEach(function (el) { el.innerHTML = both(el.dataset.label); });
  }

  // --- rendering -------------------------------------------------------------------------
  function renderBranch() {
    var names = (state.branch && state.branch.names) || {};
    document.getElementById("branch").innerHTML = langs.map(function (l) {
      return '<span lang="' + l + '" dir="' + dirOf(l) + '">' + esc(names[l] || "") + "</span>";
    }).join(SEP);
  }
  function renderCalls(flash) {
    var calls = state.calls;
    var latest = calls[0];
    var code = document.getElementById("latest-code"), counter = document.getElementById("latest-counter");
    var tag = document.getElementById("latest-tag");
    if (latest) {
      code.textContent = latest.code;
      counter.textContent = latest.counter;
      tag.innerHTML = latest.transferred ? both("transferred") : latest.kind === "recalled" ? both("recall") : "";
      document.getElementById("latest").dataset.seq = latest.seq;
    } else {
      code.textContent = "—"; counter.textContent = "—"; tag.innerHTML = both("no_calls");
    }
    var rows = calls.slice(1, 8).map(function (c) {
      return '<tr data-seq="' + c.seq + '" class="' + (c.transferred ? "transferred" : "") + '">' +
        '<td class="code-cell" dir="ltr">' + esc(c.code) + "</td>" +
        '<td class="kind-cell">' + (c.transferred ? both("transferred") : c.kind === "recalled" ? both("recall") : "") + "</td>" +
        '<td class="counter-cell" dir="ltr">' + esc(c.counter) + "</td></tr>";
    });
    document.querySelector("#calls thead").innerHTML = rows.length ?
      '<tr><th class="label stack">' + both("ticket") + '</th><th></th><th class="label stack">' + both("counter") + "</th></tr>" : "";
    document.querySelector("#calls tbody").innerHTML = rows.join("");
    if (flash) {
      var box = document.getElementById("latest");
      box.classList.remove("flash"); void box.offsetWidth; box.classList.add("flash");
    }
  }
  function renderServices() {
    var html = state.services.filter(function (s) { return s.active !== false; }).map(function (s) {
      var names = s.names || {};
      return '<div class="svc' + (s.open ? "" : " closed") + '" data-prefix="' + esc(s.prefix) + '">' +
        '<div class="name">' + langs.map(function (l, i) {
          return '<span lang="' + l + '" dir="' + dirOf(l) + '" class="' + (i ? "sec" : "") + '">' +
            (i ? "" : '<span class="prefix" dir="ltr">' + esc(s.prefix) + "</span> ") + esc(names[l] || "") + "</span>";
        }).join("") + "</div>" +
        '<div class="nums"><div><b class="waiting">' + esc(s.waiting) + '</b><small class="stack">' +
        both("waiting") + "</small></div>" +
        '<div>' + (s.open ? '<b class="estimate" dir="ltr">' + esc(s.estimated_wait_minutes) + " " +
                             esc((L[langs[1]] || L.fr).minutes) + '</b><small class="stack">' + both("estimate") + "</small>"
                           : '<small class="stack">' + both("closed") + "</small>") + "</div></div></div>";
    });
    document.getElementById("services").innerHTML = html.join("");
  }
  function tick() {
    var opts = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (state.tz) opts.timeZone = state.tz;
    try { document.getElementById("clock").textContent = new Date().toLocaleTimeString("fr-FR", opts); }
    catch (e) { document.getElementById("clock").textContent = new Date().toLocaleTimeString(); }
  }
  setInterval(tick, 1000); tick();

  // --- announcements -----------------------------------------------------------------------
  // the seqs already announced (the last 200), not a high-water mark: with several
  // server processes, seq 11 may arrive before seq 10 and both must be announced
  var announced = [];
  try { announced = JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { announced = []; }
  if (!Array.isArray(announced)) announced = [];
  function wasAnnounced(seq) { return announced.indexOf(seq) !== -1; }
  var queue = [], playing = false;
  window.tabourDisplay.queue = queue; // announcements waiting for the one playing to end
  function enqueue(a) {
    if (wasAnnounced(a.seq)) return;  // the server sends this zone's announcements only
    if (queue.some(function (q) { return q.seq === a.seq; })) return;
    queue.push(a);
    queue.sort(function (x, y) { return x.seq - y.seq; });
    playNext();
  }
  function markAnnounced(seq) {
    announced.push(seq);
    if (announced.length > 200) announced = announced.slice(-200);
    localStorage.setItem(storeKey, JSON.stringify(announced));
  }
  function playNext() {
    if (playing || !queue.length) return;
    var a = queue.shift();
    if (wasAnnounced(a.seq)) return playNext();
    markAnnounced(a.seq);
    playing = true;
    var audio = new Audio(a.audio_url);
    var done = function () { playing = false; playNext(); };
    audio.onended = done;
    audio.onerror = done;
    window.tabourDisplay.played.push({ seq: a.seq, code: a.code, counter: a.counter,
                                       languages: a.languages, url: a.audio_url, at: timeNow() });
    var p = audio.play();
    if (p && p.catch) p.catch(function () {
      // autoplay refused (Chromium without --autoplay-policy=no-user-gesture-required)
      var b = document.getElementById("sound");
      b.innerHTML = both("enable_sound"); b.hidden = false;
      b.onclick = function () { b.hidden = true; };
      done();
    });
  }

  // --- live -------------------------------------------------------------------------------
  function onSnapshot(snap) {
    state.branch = snap.branch; state.tz = snap.branch.timezone; state.zone = snap.zone || null;
    langs = (snap.branch.display_languages || ["ar", "fr"]).slice(0, 2);
    state.calls = snap.calls || [];
    state.services = snap.services || [];
    applyLabels(); renderBranch(); renderCalls(false); renderServices(); tick();
    document.getElementById("refused").hidden = true;
    if (firstSnapshot && !localStorage.getItem(storeKey)) {
      markAnnounced(snap.seq); // a display switched on does not replay the morning
    } else {
      // the last 30 s of announcements; the ones already played are dropped by enqueue
      fetch("/display/announcements?after=0&zone=" + encodeURIComponent(zone),
            { headers: { Authorization: "Bearer " + token } })
        .then(function (r) { return r.ok ? r.json() : { announcements: [] }; })
        .then(function (body) { body.announcements.forEach(enqueue); })
        .catch(function () {});
    }
    firstSnapshot = false;
  }
  function onCalled(c) {  // the server sends this zone's calls only
    state.calls.unshift({ seq: c.seq, kind: c.kind, code: c.code, counter: c.counter,
                          service: c.service, at: c.at });
    state.calls = state.calls.slice(0, 12);
    renderCalls(true);
    window.tabourDisplay.shown.push({ seq: c.seq, code: c.code, counter: c.counter, kind: c.kind, at: timeNow() });
  }
  function onChanged(e) {
    if (e.event !== "ticket_transferred") return;
    var hit = false;
    state.calls.forEach(function (c) { if (c.code === e.code && c.counter === e.counter) { c.transferred = true; hit = true; } });
    if (hit) renderCalls(false);
  }
  function onQueue(q) {
    var byPrefix = {};
    q.services.forEach(function (s) { byPrefix[s.prefix] = s; });
    state.services = state.services.map(function (s) { return byPrefix[s.prefix] || s; });
    renderServices();
  }
  function onState(st, detail) {
    var el = document.getElementById("conn");
    el.innerHTML = st === "online" ? "" : both("reconnecting");
    if (st === "refused") showRefused(detail);
  }
  function showRefused(message) {
    var el = document.getElementById("refused");
    el.innerHTML = "<div>" + both("refused") + "<br><small dir=\"ltr\">" + esc(message || "") + "</small></div>";
    el.hidden = false;
  }

  applyLabels();
  if (!token) { showRefused("No display token: open /display/#token=<display device token>"); return; }
  var live = new window.TabourLive({
    token: token, view: "display", zone: zone || undefined, lang: langs[0],
    onSnapshot: onSnapshot, onState: onState,
    handlers: { ticket_called: onCalled, ticket_changed: onChanged, queue_changed: onQueue },
  });
  live.start();
  live.socket.on("announcement", enqueue); // not seq-filtered by the snapshot: audio comes after the call
  live.socket.on("connect_error", function (err) {
    if (err && err.data && err.data.code) {  // refused by the server (zone, token): say why
      showRefused(err.message);
      setTimeout(function () { live.socket.connect(); }, 30000); // config edits need no restart
    }
  });
  window.tabourDisplay.live = live;
})();
