// Tabour live dashboard. Live over Socket.IO (view "dashboard"): a snapshot on every
// (re)connect, then whole pictures (dashboard_live, dashboard_today) and alert facts. No
// polling: durations that grow (a wait, a break) count on from the server's time here.
// The server decides everything (which service is in breach, what an alert says); this page
// lays it out. Sign-in and the staff token: static/js/tabour-staff.js.
(function (global) {
  "use strict";
  var D = JSON.parse(document.getElementById("dashboard-data").textContent), S = D.strings, LANG = D.lang;
  var NUM_LOCALE = { ar: "ar-MA", fr: "fr-FR", en: "en-GB" }[LANG] || "en-GB"; // Latin digits
  var $ = function (id) { return document.getElementById(id); };
  var live = null, branch = null, picture = null, today = null, alerts = {};
  // ?branch=<code>: another branch's board, opened from the supervisors' page (read-only;
  // the server checks the supervisor's scope)
  var BRANCH = new URLSearchParams(location.search).get("branch") || undefined;
  var readonly = false;
  if (BRANCH) { // the bar's links stay on that branch (its reports)
    document.querySelectorAll(".bar .links a").forEach(function (a) {
      if (a.pathname.indexOf("/dashboard/reports") === 0) a.search = "?branch=" + encodeURIComponent(BRANCH);
    });
  }
  var received = 0; // when the live picture arrived (ms, this browser's clock)
  // what a test reads: how many pictures were applied, and the last ones
  global.tabourDashboard = { live: 0, today: 0, alerts: 0, picture: null, figures: null };

  var fmt0 = new Intl.NumberFormat(NUM_LOCALE, { maximumFractionDigits: 0 });
  var fmt1 = new Intl.NumberFormat(NUM_LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var fmtPct = new Intl.NumberFormat(NUM_LOCALE, { style: "percent", maximumFractionDigits: 0 });
  function n0(v) { return v === null || v === undefined ? "–" : fmt0.format(v); }
  function n1(v) { return v === null || v === undefined ? "–" : fmt1.format(v); }
  function pct(v) { return v === null || v === undefined ? "–" : fmtPct.format(v); }
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
  function forHowLong(since) { // "for 12 min", "for 1 h 05"
    var m = Math.max(0, Math.floor(elapsedSince(since) / 60));
    var text = m < 60 ? S.minutes_n.replace("{n}", fmt0.format(m))
      : S.hours_n.replace("{h}", fmt0.format(Math.floor(m / 60))).replace("{m}", String(m % 60).padStart(2, "0"));
    return S.for_how_long.replace("{duration}", text);
  }
  function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }
  // the ISO times carry the branch's offset: compare them as instants
  function elapsedSince(iso) {
    if (!iso || !picture) return 0;
    var serverNow = Date.parse(picture.now) + (Date.now() - received);
    return (serverNow - Date.parse(iso)) / 1000;
  }

  // --- sign in (static/js/tabour-staff.js) ------------------------------------------------
  var staff = new global.TabourStaff({
    lang: LANG, main: "board-view",
    strings: { wrong_login: S.wrong_login, session_expired: S.session_expired,
               not_staff: S.not_manager },
    onStart: start,
    onSignOut: function () { if (live && live.socket) live.socket.disconnect(); live = null; },
  });
  function message(text, kind) { staff.message(text, kind); }

  // --- live ------------------------------------------------------------------------------
  function start() {
    live = new global.TabourLive({
      token: staff.token, view: "dashboard", lang: LANG, branch: BRANCH,
      onSnapshot: function (snap) {
        branch = snap.branch;
        $("branch-name").textContent = name(branch.names);
        var d = snap.dashboard;
        readonly = !!d.readonly;
        document.documentElement.dataset.readonly = readonly ? "true" : "false";
        alerts = {};
        d.alerts.forEach(function (a) { alerts[a.id] = a; });
        applyLive(d.live);
        if (d.today) applyToday(d.today);
        renderAlerts();
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
            message(detail);
          }
        }
      },
      handlers: {
        dashboard_live: applyLive,
        dashboard_today: applyToday,
        alert_raised: onAlert, alert_cleared: onAlert, alert_acknowledged: onAlert,
      },
    }).start();
  }

  function applyLive(p) {
    picture = p; received = Date.now();
    global.tabourDashboard.picture = p;
    renderServices(); renderCounters(); renderTotals();
    global.tabourDashboard.live += 1;
  }
  function applyToday(t) {
    today = t;
    global.tabourDashboard.figures = t;
    renderServices(); renderCounters(); renderTotals(); renderOutcomes();
    global.tabourDashboard.today += 1;
  }
  function onAlert(fact) {
    alerts[fact.alert.id] = fact.alert;
    renderAlerts();
    global.tabourDashboard.alerts += 1;
  }

  // --- rendering -------------------------------------------------------------------------
  function todayService(prefix) {
    return today && today.services.find(function (s) { return s.prefix === prefix; });
  }
  function todayCounter(number) {
    return today && today.counters.find(function (c) { return c.number === number; });
  }

  function trend(figures, target) {
    if (!figures || !figures.trend || !figures.trend.length) return "";
    var max = Math.max.apply(null, figures.trend.map(function (h) { return h.arrivals; }).concat([1]));
    return '<div class="spark" role="img" aria-label="' + esc(S.arrivals_by_hour) + '">' +
      figures.trend.map(function (h) {
        var late = h.wait_mean_min !== null && h.wait_mean_min >= target;
        var tip = h.hour + ":00 · " + S.arrivals + " " + n0(h.arrivals) + " · " + S.mean_wait + " " + n1(h.wait_mean_min);
        return '<span class="bar' + (late ? " late" : "") + (h.arrivals ? "" : " zero") +
          '" data-height="' + (h.arrivals ? Math.max(8, Math.round(100 * h.arrivals / max)) : 4) +
          '" title="' + esc(tip) + '"></span>';
      }).join("") + "</div>";
  }

  function renderServices() {
    if (!picture) return;
    var rows = picture.services.map(function (s) {
      var t = todayService(s.prefix);
      var state = !s.active || s.closed_today ? S.closed : (!s.open ? S.no_counter : "");
      var cls = s.breached ? "breach" : (state ? "off" : "");
      return '<tr class="' + cls + '" data-prefix="' + esc(s.prefix) + '">' +
        '<th scope="row"><span class="prefix">' + esc(s.prefix) + "</span> " + esc(name(s.names)) +
        (state ? ' <small class="pill">' + esc(state) + "</small>" : "") +
        (s.breached ? ' <small class="pill bad">' + esc(S.over_target) + "</small>" : "") + "</th>" +
        '<td class="waiting">' + n0(s.waiting) + "</td>" +
        '<td class="longest" data-since="' + esc(s.waiting ? s.longest_wait_since : "") + '">' +
          (s.waiting ? clock(s.longest_wait_s) : "–") + "</td>" +
        '<td class="estimate">' + n0(s.estimated_wait_minutes) + "</td>" +
        '<td class="target">' + n0(s.target_wait_minutes) + "</td>" +
        '<td class="served">' + (t ? n0(t.served) : "–") + "</td>" +
        '<td class="wait-mean">' + (t ? n1(t.wait_mean_min) : "–") + "</td>" +
        '<td class="wait-p90">' + (t ? n1(t.wait_p90_min) : "–") + "</td>" +
        '<td class="sl">' + (t ? pct(t.service_level) : "–") + "</td>" +
        '<td class="trend-col">' + trend(t, s.target_wait_minutes) + "</td></tr>";
    });
    $("services").tBodies[0].innerHTML = rows.join("");
    // bar heights through the style object: the page's CSP allows no inline style attribute
    $("services").querySelectorAll(".spark .bar[data-height]").forEach(function (bar) {
      bar.style.height = bar.dataset.height + "%";
    });
  }

  function renderCounters() {
    if (!picture) return;
    $("counters").innerHTML = picture.counters.map(function (c) {
      var t = todayCounter(c.number);
      var cur = c.current_ticket;
      return '<article class="counter state-' + esc(c.state) + (c.alert ? " breach" : "") +
        '" data-number="' + c.number + '">' +
        '<header><b>' + esc(c.name) + '</b><span class="pill state">' + esc(S["state_" + c.state] || c.state) + "</span></header>" +
        '<p class="since" data-since="' + esc(c.since || "") + '">' +
          (c.since ? esc(forHowLong(c.since)) : "") + "</p>" +
        '<p class="agent">' + (c.agent ? esc(c.agent) : "&nbsp;") + "</p>" +
        '<p class="ticket">' + (cur ? '<bdi class="code">' + esc(cur.code) + "</bdi> " +
          esc(cur.status === "serving" ? S.status_serving : S.status_called) : "&nbsp;") + "</p>" +
        '<footer><span class="stat"><b class="served">' + (t ? n0(t.served) : "–") + "</b><small>" +
        esc(S.served_today) + '</small></span><span class="stat"><b>' + (t ? n1(t.service_mean_min) : "–") +
        "</b><small>" + esc(S.mean_service) + "</small></span></footer>" +
        "</article>";
    }).join("");
  }

  function renderTotals() {
    if (picture) {
      $("kpi-waiting").textContent = n0(picture.services.reduce(function (a, s) { return a + s.waiting; }, 0));
    }
    if (!today) return;
    var t = today.totals;
    $("kpi-issued").textContent = n0(t.issued);
    $("kpi-served").textContent = n0(t.served);
    $("kpi-noshow").textContent = n0(t.no_show);
    $("kpi-transfers").textContent = n0(t.transfers);
    $("kpi-cancelled").textContent = n0(t.cancelled);
    $("kpi-priority").textContent = pct(t.priority_share);
    $("kpi-wait").textContent = n1(t.wait_mean_min);
    $("kpi-sl").textContent = pct(t.service_level);
    $("dossiers-deposited").textContent = n0(t.dossiers_deposited);
    $("dossiers-incomplete").textContent = n0(t.dossiers_incomplete);
    $("today-note").textContent = S.today_as_of.replace("{time}", hhmm(today.generated_at));
  }

  function renderOutcomes() {
    if (!today) return;
    var o = today.totals.outcomes, keys = Object.keys(o);
    $("outcomes").tBodies[0].innerHTML = keys.length ? keys.map(function (k) {
      return '<tr><th scope="row">' + esc(S["outcome_" + k] || k) + "</th><td>" + n0(o[k]) + "</td></tr>";
    }).join("") : '<tr><td class="quiet">' + esc(S.none_yet) + "</td></tr>";
  }

  function renderAlerts() {
    var all = Object.keys(alerts).map(function (k) { return alerts[k]; })
      .sort(function (a, b) { return b.id - a.id; });
    var open = all.filter(function (a) { return a.open; });
    var past = all.filter(function (a) { return !a.open; });
    function item(a) {
      var when = hhmm(a.raised_at) + (a.cleared_at ? "–" + hhmm(a.cleared_at) : "");
      var ack = a.acknowledged_at
        ? '<span class="acked">' + esc(S.acknowledged_by.replace("{who}", a.acknowledged_by || "")) + "</span>"
        : readonly ? "" // a supervisor watches; the branch's managers acknowledge
        : '<button type="button" class="ack" data-ack="' + a.id + '">' + esc(S.acknowledge) + "</button>";
      return '<li class="alert' + (a.open ? " open" : "") + '" data-alert="' + a.id + '" data-kind="' + esc(a.kind) + '" data-key="' + esc(a.key) + '">' +
        '<time dir="ltr">' + esc(when) + "</time> <span class=\"text\" dir=\"auto\">" +
        esc(a.messages[LANG] || a.messages.en) + "</span> " + ack + "</li>";
    }
    $("alert-list").innerHTML = open.map(item).join("");
    $("past-list").innerHTML = past.map(item).join("");
    $("past-alerts").hidden = !past.length;
    $("no-alerts").hidden = !!open.length;
    $("alert-count").textContent = open.length ? "(" + n0(open.length) + ")" : "";
    $("alerts").classList.toggle("has-open", !!open.length);
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-ack]");
    if (!b) return;
    b.disabled = true;
    staff.api("POST", "/dashboard/alerts/" + b.dataset.ack + "/acknowledge", {}).then(function (res) {
      if (res.status === 200) { alerts[res.body.id] = res.body; renderAlerts(); }
      else { message(res.body.error && res.body.error.message); b.disabled = false; }
    }).catch(function () { b.disabled = false; });
  });

  // durations that grow with the clock: counted here, once a second, from the server's time
  setInterval(function () {
    if (!picture) return;
    document.querySelectorAll("#services td.longest[data-since]").forEach(function (td) {
      if (td.dataset.since) td.textContent = clock(elapsedSince(td.dataset.since));
    });
    document.querySelectorAll("#counters .since[data-since]").forEach(function (p) {
      if (p.dataset.since) p.textContent = forHowLong(p.dataset.since);
    });
  }, 1000);

  staff.start();
})(window);
