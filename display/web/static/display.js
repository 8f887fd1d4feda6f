// Tabour wall display: snapshot + deltas over Socket.IO, announcements queued and played in order.
//
// Calls: the latest large; the history below shows each ticket once (its latest call), never
// the one being called; a recall is told by a tag, not by a second row.
//
// Announcements (display/web/README.md): each call is announced once, late rather than never.
// An announcement counts as played when its audio starts playing, not before: one whose turn
// comes during an outage waits (its audio is fetched again until the server is back), and a
// play() refused for another reason than the autoplay policy is retried, never taken for an
// autoplay block. Only a real autoplay refusal (NotAllowedError) shows "tap to enable sound",
// and the button goes away as soon as a sound plays. After a reconnect the display asks
// GET /display/announcements for what the server announced in the last LATE_S seconds; the
// server also announces then the calls whose process died before their audio was made. The
// seqs played are kept in localStorage (a set, per zone): nothing is played twice.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("display-data").textContent);
  var L = D.labels;
  var LATE_MS = 120000;  // an announcement not played within 2 minutes is not played
  var params = new URLSearchParams(location.search);
  var zone = params.get("zone") || "";
  var TOKEN = "tabour.display.token";
  var hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (hash.get("token")) {  // a token in the fragment (never in a log): kept, then removed
    localStorage.setItem(TOKEN, hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  var token = localStorage.getItem(TOKEN) || "";
  var storeKey = "tabour.display.announced." + (zone || "*");
  var langs = D.languages.slice(0, 3);
  var state = { calls: [], services: [], counters: {}, zone: null, tz: null, branch: null };
  var firstSnapshot = true;
  var live = null;
  var timeNow = function () { return performance.timeOrigin + performance.now(); };
  // what tests and the bench read: when each call was shown, what was played
  var T = window.tabourDisplay = { shown: [], played: [], skipped: [], attempts: 0, state: state };

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  var SEP = '<i class="sep" aria-hidden="true"></i>';
  function dirOf(lang) { return D.dirs[lang] || "ltr"; }
  function text(lang, key) { return (L[lang] || L.fr)[key]; }
  function span(lang, html, cls) {
    return '<span lang="' + lang + '" dir="' + dirOf(lang) + '"' + (cls ? ' class="' + cls + '"' : "") + ">" + html + "</span>";
  }
  function all(key) {
    return langs.map(function (l) { return span(l, esc(text(l, key))); }).join(SEP);
  }
  function icon(name) { return document.querySelector('#icons [data-icon="' + name + '"]').innerHTML; }
  function applyLabels() {
    document.documentElement.lang = langs[0];
    document.documentElement.dir = dirOf(langs[0]);
    document.querySelectorAll("[data-label]").forEach(function (el) { el.innerHTML = all(el.dataset.label); });
    $("legend").innerHTML = "<span>" + icon("people") + all("waiting") + "</span><span>" +
      icon("clock") + all("estimate") + "</span>";
  }

  // --- rendering -------------------------------------------------------------------------
  function renderBranch() {
    var names = (state.branch && state.branch.names) || {};
    $("branch").innerHTML = langs.filter(function (l) { return names[l]; }).map(function (l) {
      return span(l, esc(names[l]));
    }).join(SEP);
  }
  function historyRows() {
    // each ticket once (its latest call), never the one being called now
    var seen = {}, rows = [];
    state.calls.forEach(function (c, i) {
      if (seen[c.code]) return;
      seen[c.code] = true;
      if (i > 0 && rows.length < 5) rows.push(c);
    });
    return rows;
  }
  function renderCalls(flash) {
    var latest = state.calls[0];
    $("latest").dataset.empty = latest ? "false" : "true";
    if (latest) {
      $("latest-code").textContent = latest.code;
      $("latest-counter").textContent = latest.counter;
      $("latest-tag").innerHTML = latest.transferred ? all("transferred") : latest.kind === "recalled" ? all("recall") : "";
      $("latest").dataset.seq = latest.seq;
    } else {
      $("latest-code").textContent = ""; $("latest-counter").textContent = ""; $("latest-tag").innerHTML = "";
    }
    var rows = historyRows().map(function (c) {
      return '<tr data-seq="' + c.seq + '" class="' + (c.transferred ? "transferred" : "") + '">' +
        '<td class="code-cell" dir="ltr">' + esc(c.code) + "</td>" +
        '<td class="kind-cell">' + (c.transferred ? all("transferred") : "") + "</td>" +
        '<td class="counter-cell" dir="ltr">' + esc(c.counter) + "</td></tr>";
    });
    document.querySelector("#calls thead").innerHTML = rows.length ?
      '<tr><th><div class="label">' + all("ticket") + '</div></th><th></th><th><div class="label">' +
      all("counter") + "</div></th></tr>" : "";
    document.querySelector("#calls tbody").innerHTML = rows.join("");
    if (flash) {
      var box = $("latest");
      box.classList.remove("flash"); void box.offsetWidth; box.classList.add("flash");
    }
  }
  function renderServices() {
    var shown = state.services.filter(function (s) { return s.active !== false; });
    $("services").innerHTML = shown.map(function (s) {
      var names = s.names || {};
      var lines = langs.map(function (l, i) {
        var name = names[l] || (l === "zgh" ? "" : names.fr || "");
        if (!name) return "";
        return span(l, (i ? "" : '<b class="prefix" dir="ltr">' + esc(s.prefix) + "</b> ") + esc(name), i ? "sec" : "first");
      }).join("");
      var nums = s.open
        ? '<div class="nums"><span>' + icon("people") + ' <b class="waiting">' + esc(s.waiting) +
          '</b></span><span class="estimate" dir="ltr">' + icon("clock") + " " +
          esc(s.estimated_wait_minutes) + " " + esc(text(langs[langs.length > 1 ? 1 : 0], "minutes")) + "</span></div>"
        : '<div class="nums"><span class="closed-label">' + icon("lock") + all("closed") + "</span></div>";
      return '<div class="svc' + (s.open ? "" : " closed") + (langs.length > 2 ? " three" : "") +
        '" data-prefix="' + esc(s.prefix) + '"><div class="name">' + lines + "</div>" + nums + "</div>";
    }).join("");
  }
  function tick() {
    var opts = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (state.tz) opts.timeZone = state.tz;
    try { $("clock").textContent = new Date().toLocaleTimeString("fr-FR", opts); }
    catch (e) { $("clock").textContent = new Date().toLocaleTimeString(); }
  }
  setInterval(tick, 1000); tick();

  // --- announcements -----------------------------------------------------------------------
  var announced = [];
  try { announced = JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { announced = []; }
  if (!Array.isArray(announced)) announced = [];
  function wasAnnounced(seq) { return announced.indexOf(seq) !== -1; }
  function markAnnounced(seq) {
    if (wasAnnounced(seq)) return;
    announced.push(seq);
    if (announced.length > 200) announced = announced.slice(-200);
    localStorage.setItem(storeKey, JSON.stringify(announced));
  }
  var queue = [], playing = false, blocked = false, retryTimer = null, backoff = 1000;
  T.queue = queue;  // announcements waiting for their turn
  function enqueue(a) {
    if (wasAnnounced(a.seq)) return;  // the server sends this zone's announcements only
    if (queue.some(function (q) { return q.seq === a.seq; })) return;
    a.receivedAt = timeNow();
    queue.push(a);
    queue.sort(function (x, y) { return x.seq - y.seq; });
    playNext();
  }
  function drop(a) {
    var i = queue.indexOf(a);
    if (i >= 0) queue.splice(i, 1);
  }
  function soundButton(show) {
    var b = $("sound");
    if (show) { b.innerHTML = all("enable_sound"); }
    b.hidden = !show;
  }
  $("sound").addEventListener("click", function () {  // a tap: the browser allows sound now
    blocked = false; soundButton(false); playNext();
  });
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(playNext, backoff);
    backoff = Math.min(backoff * 2, 5000);
  }
  function playNext() {
    if (playing || blocked || !queue.length) return;
    var a = queue[0];
    if (timeNow() - a.receivedAt > LATE_MS) {  // too late to call anyone: shown, not spoken
      drop(a); markAnnounced(a.seq); T.skipped.push(a.seq);
      return playNext();
    }
    playing = true;
    T.attempts += 1;
    var audio = new Audio(a.audio_url), started = false, over = false;
    var guard = null;
    function end(retry) {
      if (over) return;
      over = true; playing = false; clearTimeout(guard);
      audio.onended = audio.onerror = null;
      if (retry) retryLater(); else playNext();
    }
    audio.addEventListener("playing", function () {
      if (started) return;
      started = true; backoff = 1000;
      drop(a); markAnnounced(a.seq);
      soundButton(false);  // sound works: no "tap to enable sound"
      T.played.push({ seq: a.seq, code: a.code, counter: a.counter, languages: a.languages,
                      url: a.audio_url, at: timeNow() });
      guard = setTimeout(function () { end(false); }, ((a.duration_s || 10) + 10) * 1000);
    });
    audio.onended = function () { end(false); };
    audio.onerror = function () { end(!started); };  // not loaded (server away): again later
    var p = audio.play();
    if (p && p.catch) p.catch(function (err) {
      if (started || over) return;
      if (err && err.name === "NotAllowedError") {
        // the autoplay policy (Chromium without --autoplay-policy=no-user-gesture-required)
        over = true; playing = false; blocked = true; soundButton(true);
      } else {
        end(true);
      }
    });
  }

  // --- live -------------------------------------------------------------------------------
  function onSnapshot(snap) {
    state.branch = snap.branch; state.tz = snap.branch.timezone; state.zone = snap.zone || null;
    langs = (snap.branch.display_languages || D.languages).filter(function (l) { return L[l]; }).slice(0, 3);
    if (!langs.length) langs = ["ar", "fr"];
    state.calls = snap.calls || [];
    state.services = snap.services || [];
    applyLabels(); renderBranch(); renderCalls(false); renderServices(); tick();
    $("refused").hidden = true;
    if (firstSnapshot && !localStorage.getItem(storeKey)) {
      markAnnounced(snap.seq); // a display switched on does not replay the morning
    } else {
      // what was announced while this display was away (and, on the server, the calls
      // whose process died before their audio): the ones already played are dropped
      fetch("/display/announcements?after=0&zone=" + encodeURIComponent(zone),
            { headers: { Authorization: "Bearer " + token, "Accept-Language": langs[0] } })
        .then(function (r) { return r.ok ? r.json() : { announcements: [] }; })
        .then(function (body) { body.announcements.forEach(enqueue); })
        .catch(function () {});
    }
    firstSnapshot = false;
    playNext();
  }
  function onCalled(c) {  // the server sends this zone's calls only
    state.calls.unshift({ seq: c.seq, kind: c.kind, code: c.code, counter: c.counter,
                          service: c.service, at: c.at });
    state.calls = state.calls.slice(0, 12);
    renderCalls(true);
    T.shown.push({ seq: c.seq, code: c.code, counter: c.counter, kind: c.kind, at: timeNow() });
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
  function onState(st) {
    $("conn").innerHTML = st === "online" ? "" : all("reconnecting");
  }
  function showRefused(message) {
    $("refused-reason").textContent = message || "";
    $("refused").hidden = false;
  }

  // --- pairing: a code typed on the display (never a token in an address or a log) ----------
  function showPairing(message) {
    $("pairing").hidden = false;
    $("pairing-message").innerHTML = message ? all(message) : "";
    $("pairing-code").focus();
  }
  $("pairing-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    fetch("/api/v1/display/pair", { method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": langs[0] },
      body: JSON.stringify({ code: $("pairing-code").value }) })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); })
      .then(function (res) {
        if (res.status === 200) {
          token = res.body.token;
          localStorage.setItem(TOKEN, token);
          $("pairing").hidden = true; $("pairing-code").value = ""; $("pairing-message").textContent = "";
          start();
        } else if (res.body.error && res.body.error.code === "invalid_pairing_code") {
          showPairing("bad_code");
        } else {
          $("pairing-message").textContent = (res.body.error && res.body.error.message) || "";
        }
      })
      .catch(function () { $("pairing-message").innerHTML = all("reconnecting"); });
  });

  function start() {
    live = new window.TabourLive({
      token: token, view: "display", zone: zone || undefined, lang: langs[0],
      onSnapshot: onSnapshot, onState: onState,
      handlers: { ticket_called: onCalled, ticket_changed: onChanged, queue_changed: onQueue },
    });
    live.start();
    live.socket.on("announcement", enqueue); // not seq-filtered by the snapshot: audio comes after the call
    live.socket.on("connect_error", function (err) {
      if (!(err && err.data && err.data.code)) return;  // the network: socket.io retries
      if (err.data.code === "token_invalid") {  // revoked or never valid: pair again
        live.socket.disconnect();
        localStorage.removeItem(TOKEN); token = "";
        showPairing("unpaired");
        return;
      }
      showRefused(err.message);  // refused by the server (a zone): its reason, in its language
      setTimeout(function () { live.socket.connect(); }, 30000); // config edits need no restart
    });
    T.live = live;
  }

  applyLabels();
  if (!token) { showPairing(null); return; }
  start();
})();
