// Tabour supervisors' page: every branch of the supervisor's scope, worst first. Live over
// Socket.IO (view "supervisor"): a snapshot of roll-up rows on every (re)connect, then
// supervisor_rows (whole rows of the branches that changed). No polling: the longest waits
// grow here, once a second, from the server's time, and the order follows. A row opens the
// branch's dashboard, read-only. Sign-in and the staff token: static/js/tabour-staff.js.
(function (global) {
  "use strict";
  var D = JSON.parse(document.getElementById("supervisor-data").textContent);
  var S = D.strings, LANG = D.lang;
  var NUM_LOCALE = { ar: "ar-MA", fr: "fr-FR", en: "en-GB" }[LANG] || "en-GB"; // Latin digits
  var $ = function (id) { return document.getElementById(id); };
  var live = null, rows = {}, regions = {}, offset = 0; // offset: server clock - this one (ms)
  // what a test reads: snapshots and updates applied, the order shown
  global.tabourSupervisor = { snapshots: 0, updates: 0, order: [], rows: rows };

  var fmt0 = new Intl.NumberFormat(NUM_LOCALE, { maximumFractionDigits: 0 });
  var fmtPct = new Intl.NumberFormat(NUM_LOCALE, { style: "percent", maximumFractionDigits: 0 });
  function n0(v) { return v === null || v === undefined ? "–" : fmt0.format(v); }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function name(names) { return (names && (names[LANG] || names.fr || names.en)) || ""; }
  function clock(seconds) { // 1:05:09, 12:04
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return (h ? h + ":" : "") + mm;
  }
  function serverNow() { return Date.now() + offset; }

  // the same rule as the server's (readmodel/rollup.py severity): the longest wait against
  // its target, then open alerts, then the number waiting
  function measure(r) {
    var now = serverNow(), longest = 0, ratio = 0;
    r.waits.forEach(function (w) {
      var s = (now - Date.parse(w.since)) / 1000;
      longest = Math.max(longest, s);
      ratio = Math.max(ratio, s / (60 * Math.max(1, w.target_min)));
    });
    return { longest: longest, ratio: ratio };
  }
  function worstFirst(a, b) {
    return (b.m.ratio - a.m.ratio) || (b.r.alerts - a.r.alerts) || (b.r.waiting - a.r.waiting) ||
      (a.r.branch < b.r.branch ? -1 : a.r.branch > b.r.branch ? 1 : 0);
  }

  var staff = new global.TabourStaff({
    lang: LANG, main: "supervisor-view",
    strings: { wrong_login: S.wrong_login, session_expired: S.session_expired,
               not_staff: S.not_supervisor },
    onStart: start,
    onSignOut: function () { if (live && live.socket) live.socket.disconnect(); live = null; },
  });

  function start() {
    live = new global.TabourLive({
      token: staff.token, view: "supervisor", lang: LANG,
      onSnapshot: function (snap) {
        offset = Date.parse(snap.now) - Date.now();
        regions = snap.regions || {};
        Object.keys(rows).forEach(function (k) { delete rows[k]; });
        snap.rows.forEach(function (r) { rows[r.branch] = r; });
        $("scope").textContent = scopeText(snap.scope);
        render();
        global.tabourSupervisor.snapshots += 1;
        document.documentElement.dataset.state = "ready";
      },
      onState: function (state, detail, code) {
        var c = $("conn");
        c.dataset.state = state;
        c.textContent = state === "online" ? S.online : state === "refused" ? "" : S.reconnecting;
        if (state === "refused") {
          if (code === "token_invalid" || code === "session_expired" || code === "sign_in_first") {
            staff.signOut(detail);
          } else {
            staff.message(detail);
          }
        }
      },
      handlers: { supervisor_rows: onRows },
    }).start();
  }

  function onRows(msg) {
    offset = Date.parse(msg.now) - Date.now();
    msg.rows.forEach(function (r) {
      var known = rows[r.branch];
      // rows from two server processes may cross: an older picture of a branch is dropped
      if (known && known.day === r.day && r.as_of_seq < known.as_of_seq) return;
      rows[r.branch] = r;
    });
    render();
    global.tabourSupervisor.updates += 1;
  }

  function scopeText(scope) {
    if (!scope) return "";
    if (scope.national) return S.national;
    if (scope.regions) return scope.regions.map(function (c) { return name(regions[c]) || c; }).join(" · ");
    return (scope.branches || []).join(" · ");
  }

  function render() {
    var list = Object.keys(rows).map(function (k) { return { r: rows[k], m: measure(rows[k]) }; });
    list.sort(worstFirst);
    global.tabourSupervisor.order = list.map(function (x) { return x.r.branch; });
    var tot = { waiting: 0, open: 0, served: 0, alerts: 0 };
    $("branches").tBodies[0].innerHTML = list.map(function (x) {
      var r = x.r, m = x.m;
      tot.waiting += r.waiting; tot.open += r.counters_open; tot.served += r.served; tot.alerts += r.alerts;
      var cls = m.ratio >= 1 ? "breach" : m.ratio >= 0.8 ? "warn" : "";
      var href = "/dashboard/?branch=" + encodeURIComponent(r.branch);
      var label = S.open_dashboard.replace("{branch}", name(r.names) || r.branch);
      return '<tr class="' + cls + '" data-branch="' + esc(r.branch) + '" data-href="' + esc(href) + '">' +
        '<th scope="row"><a href="' + esc(href) + '" title="' + esc(label) + '">' + esc(name(r.names) || r.branch) + "</a></th>" +
        '<td class="region">' + esc(r.region ? (name(regions[r.region]) || r.region) : S.no_region) + "</td>" +
        '<td class="waiting">' + n0(r.waiting) + "</td>" +
        '<td class="longest" dir="ltr">' + (r.waits.length ? clock(m.longest) : "–") + "</td>" +
        '<td class="ratio">' + (r.waits.length ? esc(S.of_target.replace("{pct}", fmtPct.format(m.ratio))) : "–") + "</td>" +
        '<td class="open">' + n0(r.counters_open) + " / " + n0(r.counters) + "</td>" +
        '<td class="served">' + n0(r.served) + "</td>" +
        '<td class="alerts">' + (r.alerts ? "<b>" + n0(r.alerts) + "</b>" : "0") + "</td></tr>";
    }).join("");
    $("empty").hidden = !!list.length;
    $("empty").textContent = list.length ? "" : S.no_branch;
    $("kpi-branches").textContent = n0(list.length);
    $("kpi-waiting").textContent = n0(tot.waiting);
    $("kpi-open").textContent = n0(tot.open);
    $("kpi-served").textContent = n0(tot.served);
    $("kpi-alerts").textContent = n0(tot.alerts);
  }

  // a row opens the branch's dashboard (the link in its first cell for the keyboard)
  $("branches").addEventListener("click", function (e) {
    var tr = e.target.closest("tr[data-href]");
    if (!tr || e.target.closest("a")) return;
    location.href = tr.dataset.href;
  });

  // waits grow with the clock: counted here from the server's time, the order follows
  setInterval(function () { if (Object.keys(rows).length) render(); }, 1000);

  staff.start();
})(window);
