// Tabour reports page. The server computes every figure (GET /api/v1/reports); this page
// only lays them out: tables, ECharts plots (served from node_modules, no CDN), exports.
// Staff token in sessionStorage under the console's key: one sign-in per tab.
(function (global) {
  "use strict";
  var R = JSON.parse(document.getElementById("reports-data").textContent), S = R.strings, L = R.labels, LANG = R.lang, RTL = R.dir === "rtl";
  var NUM_LOCALE = { ar: "ar-MA", fr: "fr-FR", en: "en-GB" }[LANG] || "en-GB"; // Latin digits
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem("tabour.console.token");
  var user = JSON.parse(sessionStorage.getItem("tabour.console.user") || "null");
  var report = null, tab = "service", charts = {};
  var PALETTE = ["#0b5cad", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d",
                 "#b7950b"];
  global.tabourReports = { loaded: 0, report: null };

  var params = new URLSearchParams(location.search);
  if (params.get("lang")) document.cookie = "lang=" + params.get("lang") + "; path=/; max-age=31536000";

  // --- formatting -------------------------------------------------------------------
  var fmt1 = new Intl.NumberFormat(NUM_LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var fmt2 = new Intl.NumberFormat(NUM_LOCALE, { maximumFractionDigits: 2 });
  var fmt0 = new Intl.NumberFormat(NUM_LOCALE, { maximumFractionDigits: 0 });
  var fmtPct = new Intl.NumberFormat(NUM_LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var RATES = { no_show_rate: 1, cancellation_rate: 1, service_level: 1, share: 1 };
  function format(code, v) {
    if (v === null || v === undefined) return "–";
    if (typeof v !== "number") return String(v);
    if (RATES[code]) return fmtPct.format(v);
    if (code === "target_min") return fmt0.format(v);
    if (/_min$/.test(code)) return fmt1.format(v);
    if (code === "open_hours" || code === "served_per_open_hour") return fmt2.format(v);
    return fmt0.format(v);
  }
  // text drawn inside the charts (their boxes are left to right): an Arabic phrase with
  // numbers and signs keeps its order inside a right-to-left isolate
  function bidi(text) { return RTL ? "\u2067" + text + "\u2069" : text; }
  function name(names) { return (names && (names[LANG] || names.fr || names.en)) || ""; }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function serviceName(prefix) {
    var sv = report && report.services.find(function (x) { return x.prefix === prefix; });
    return sv ? prefix + " · " + name(sv.names) : prefix;
  }
  function periodLabel(p) {
    if (p.indexOf("T") > 0) {
      var d = new Date(p + ":00");
      return new Intl.DateTimeFormat(NUM_LOCALE, { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).format(d);
    }
    var day = new Date(p + "T12:00:00");
    return new Intl.DateTimeFormat(NUM_LOCALE, { day: "2-digit", month: "short", year: report && report.days > 300 ? "2-digit" : undefined }).format(day);
  }
  function weekdayName(i) { // 0 = Monday
    var d = new Date(2026, 10, 23 + i, 12); // 23 Nov 2026 is a Monday
    return new Intl.DateTimeFormat(LANG === "ar" ? "ar-MA" : NUM_LOCALE, { weekday: "short" }).format(d);
  }
  function isoDay(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  // --- messages, sign in --------------------------------------------------------------
  function message(text, kind) {
    var m = $("message");
    m.textContent = text || ""; m.className = "message " + (kind || "error"); m.hidden = !text;
  }
  function show(view) {
    $("login-view").hidden = view !== "login";
    $("report-view").hidden = view !== "report";
    $("logout").hidden = view !== "report";
    $("who").textContent = user ? user.display_name : "";
  }
  function signOut(text) {
    sessionStorage.removeItem("tabour.console.token");
    sessionStorage.removeItem("tabour.console.user");
    token = null; user = null;
    show("login");
    message(text || "");
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/api/v1/auth/token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { message((res.body.error && res.body.error.message) || S.wrong_login); return; }
        token = res.body.token; user = res.body.user;
        sessionStorage.setItem("tabour.console.token", token);
        sessionStorage.setItem("tabour.console.user", JSON.stringify(user));
        message("");
        start();
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

  function start() {
    if (!token) { show("login"); $("username").focus(); return; }
    if (user && user.role === "agent") { signOut(S.not_manager); return; }
    show("report");
    if (!$("from").value) quick("7");
    load();
  }

  // --- range ----------------------------------------------------------------------------
  function quick(kind) {
    var to = new Date(), from = new Date();
    if (kind === "today") { /* from = to */ }
    else if (kind === "365") { from.setFullYear(from.getFullYear() - 1); from.setDate(from.getDate() + 1); }
    else from.setDate(from.getDate() - (parseInt(kind, 10) - 1));
    $("from").value = isoDay(from); $("to").value = isoDay(to);
    if (kind === "today") $("grain").value = "hour";
    else if ($("grain").value === "hour") $("grain").value = "day";
    if (kind === "365") $("grain").value = "week";
  }
  document.querySelectorAll("[data-quick]").forEach(function (b) {
    b.addEventListener("click", function () { quick(b.dataset.quick); load(); });
  });
  $("range-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });

  function query() {
    return "from=" + encodeURIComponent($("from").value) + "&to=" + encodeURIComponent($("to").value) +
      "&grain=" + encodeURIComponent($("grain").value) + "&lang=" + LANG +
      // ?branch=<code>: a supervisor's branch (the server checks its scope)
      (params.get("branch") ? "&branch=" + encodeURIComponent(params.get("branch")) : "");
  }
  function get(path) {
    return fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + token } }).then(function (r) {
      if (r.status === 401) { signOut(S.session_expired); throw new Error("401"); }
      return r;
    });
  }
  function load() {
    document.documentElement.dataset.state = "loading";
    $("status").textContent = S.loading;
    return get("/reports?" + query()).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) { throw new Error((b.error && b.error.message) || r.statusText); }
        return b;
      });
    }).then(function (rep) {
      report = rep; global.tabourReports.report = rep;
      message("");
      render();
      global.tabourReports.loaded += 1;
      document.documentElement.dataset.state = "ready";
    }).catch(function (e) {
      if (e.message !== "401") message(e.message);
      document.documentElement.dataset.state = "error";
      $("status").textContent = "";
    });
  }

  // --- exports -------------------------------------------------------------------------
  document.querySelectorAll("[data-export]").forEach(function (b) {
    b.addEventListener("click", function () {
      var what = b.dataset.export;
      b.disabled = true;
      get("/reports/" + what + "?" + query()).then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error.message); });
        var cd = r.headers.get("Content-Disposition") || "";
        var m = /filename="([^"]+)"/.exec(cd);
        return r.blob().then(function (blob) {
          var a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = m ? m[1] : what;
          document.body.appendChild(a); a.click(); a.remove();
          setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
          message(S.exported, "info");
        });
      }).catch(function (e) { if (e.message !== "401") message(e.message); })
        .then(function () { b.disabled = false; });
    });
  });

  // --- rendering -----------------------------------------------------------------------
  function render() {
    var t = report.totals;
    $("branch-name").textContent = name(report.branch.names);
    $("kpi-arrivals").textContent = format("arrivals", t.arrivals);
    $("kpi-served").textContent = format("served", t.served);
    $("kpi-wait").textContent = format("wait_mean_min", t.wait_mean_min);
    $("kpi-p90").textContent = format("wait_p90_min", t.wait_p90_min);
    $("kpi-sl").textContent = format("service_level", t.service_level);
    $("kpi-noshow").textContent = format("no_show_rate", t.no_show_rate);
    $("kpi-cancel").textContent = format("cancellation_rate", t.cancellation_rate);
    var status = [report.percentiles === "exact_nearest_rank" ? S.exact : S.histogram];
    status.push(report.printed.status === "missing" ? S.printed_missing :
      S.printed_ok.replace("{mae}", fmt1.format(report.printed.mae_min))
        .replace("{bias}", fmt1.format(report.printed.bias_min)).replace("{n}", fmt0.format(report.printed.n)));
    if (!report.complete) status.push(S.incomplete_range);
    if (!t.arrivals) status.unshift(S.no_data);
    $("status").textContent = status.join(" ");
    $("status").dataset.printed = report.printed.status;
    $("status").dataset.percentiles = report.percentiles;
    if (report.percentiles === "histogram_1min") {
      $("notes").innerHTML = R.notes_long.map(function (n) { return "<li>" + esc(n) + "</li>"; }).join("");
    }
    var sel = $("wait-service"), keep = sel.value;
    sel.innerHTML = report.services.map(function (s) {
      return '<option value="' + esc(s.prefix) + '">' + esc(serviceName(s.prefix)) + "</option>";
    }).join("");
    if (keep && report.charts.waits[keep]) sel.value = keep;
    renderTable();
    renderCharts();
  }

  document.querySelectorAll("[data-tab]").forEach(function (b) {
    b.addEventListener("click", function () {
      tab = b.dataset.tab;
      document.querySelectorAll("[data-tab]").forEach(function (x) {
        x.setAttribute("aria-selected", String(x === b));
      });
      if (report) renderTable();
    });
  });

  function valueLabel(dim, key) {
    var l = L[dim + "_" + key];
    return l || key;
  }
  // shown in the status line or the exports rather than as columns (the page stays
  // readable on a 1366-pixel laptop; CSV and XLSX carry every column)
  var HIDDEN = { sl_met: 1, sl_total: 1, printed_n: 1 };
  function renderTable() {
    var thead = $("table").querySelector("thead"), tbody = $("table").querySelector("tbody");
    var cols, rows, keyHead;
    $("table").dataset.table = tab;
    if (tab === "dossiers") {
      keyHead = L.type; cols = ["deposited", "incomplete"];
      rows = report.dossiers.by_type.map(function (t) { return { key: t.type, label: t.type, v: t }; });
      rows.push({ key: "total", label: "Σ", v: report.dossiers, total: true });
    } else if (tab === "periods") {
      keyHead = L.period; cols = report.columns.periods.filter(function (c) { return !HIDDEN[c]; });
      rows = report.periods.map(function (p) { return { key: p.period, label: periodLabel(p.period), v: p.all }; });
      rows.push({ key: "total", label: "Σ", v: report.totals, total: true });
    } else {
      keyHead = L["key_" + tab]; cols = report.columns[tab].filter(function (c) { return !HIDDEN[c]; });
      rows = report.breakdowns[tab].map(function (r) {
        var label;
        if (tab === "service") label = serviceName(r.key);
        else if (tab === "counter") label = r.key + " · " + name(r.label);
        else if (tab === "transfer") label = r.from + " → " + r.to;
        else if (tab === "agent") label = r.key;
        else label = valueLabel(tab, r.key);
        return { key: r.key, label: label, v: r };
      });
      if (tab === "service") rows.push({ key: "total", label: "Σ", v: report.totals, total: true });
    }
    thead.innerHTML = "<tr><th scope=col>" + esc(keyHead) + "</th>" + cols.map(function (c) {
      return '<th scope=col data-col="' + c + '">' + esc(L[c] || c) + "</th>";
    }).join("") + "</tr>";
    tbody.innerHTML = rows.map(function (r) {
      return '<tr data-key="' + esc(r.key) + '"' + (r.total ? ' class="total"' : "") + "><th scope=row>" +
        esc(r.label) + "</th>" + cols.map(function (c) {
          var v = r.v[c];
          return '<td data-col="' + c + '" data-value="' + (v === null || v === undefined ? "" : v) + '">' +
            esc(format(c, v)) + "</td>";
        }).join("") + "</tr>";
    }).join("");
  }

  // --- charts (ECharts; right to left mirrors the axes, legends and tooltips) -----------
  function chart(id) {
    if (!charts[id]) charts[id] = global.echarts.init($(id), null, { renderer: "svg", locale: LANG === "fr" ? "FR" : "EN" });
    return charts[id];
  }
  var FONT = '"DejaVu Sans", "Noto Sans Arabic", sans-serif';
  function base(extra) {
    var o = {
      textStyle: { fontFamily: FONT, fontSize: 12 },
      grid: { top: 12, bottom: 46, left: 12, right: 12, containLabel: true },
      // the chart boxes are dir="ltr" (ECharts lays text out left to right); right to
      // left is done here: legend from the right, icons after the text, mirrored axes
      legend: { bottom: 0, right: RTL ? 0 : "auto", left: RTL ? "auto" : 0,
                align: RTL ? "right" : "left", itemGap: 10, itemWidth: 14, itemHeight: 10,
                textStyle: { fontFamily: FONT, fontSize: 11 } },
      tooltip: { trigger: "axis", confine: true,
                 extraCssText: RTL ? "direction: rtl; text-align: right;" : "" },
      color: PALETTE,
      animation: false,
    };
    for (var k in extra) o[k] = extra[k];
    return o;
  }
  // No axis names: each chart's caption and legend say what is drawn (names collided with
  // the legend, and a rotated Arabic name reads badly).
  function catAxis(data) {
    return { type: "category", data: data, inverse: RTL,
             axisLabel: { fontFamily: FONT, hideOverlap: true } };
  }
  function valAxis(_nameText, extra) {
    var a = { type: "value", position: RTL ? "right" : "left",
              axisLabel: { fontFamily: FONT, formatter: function (v) { return fmt2.format(v); } } };
    for (var k in extra || {}) a[k] = extra[k];
    return a;
  }
  function hourLabels(hours) { return hours.map(function (h) { return h + ":00"; }); }

  function renderCharts() {
    var c = report.charts, hours = hourLabels(c.hours);
    var services = report.services.map(function (s) { return s.prefix; });

    chart("chart-arrivals").setOption(base({
      xAxis: catAxis(hours, S.hour),
      yAxis: valAxis(S.arrivals_per_day),
      series: services.map(function (p) {
        return { name: serviceName(p), type: "bar", stack: "a", data: c.by_hour[p].arrivals_per_day };
      }),
    }), true);

    chart("chart-waits").setOption(base({
      xAxis: catAxis(hours, S.hour),
      yAxis: valAxis(S.mean_wait),
      series: services.map(function (p) {
        return { name: serviceName(p), type: "line", connectNulls: false, symbolSize: 5,
                 data: c.by_hour[p].wait_mean_min };
      }),
    }), true);

    var heatMax = c.heatmap.reduce(function (m, x) { return Math.max(m, x[2]); }, 0) || 1;
    var wdays = [0, 1, 2, 3, 4, 5, 6];
    chart("chart-heatmap").setOption(base({
      legend: { show: false },
      tooltip: { position: "top", confine: true, extraCssText: RTL ? "direction: rtl;" : "",
                 formatter: function (p) {
                   return esc(weekdayName(p.value[1])) + " " + esc(hours[p.value[0]]) + ": " + fmt1.format(p.value[2]);
                 } },
      grid: { top: 10, bottom: 60, left: RTL ? 10 : 60, right: RTL ? 60 : 10, containLabel: true },
      xAxis: catAxis(hours, S.hour),
      yAxis: { type: "category", data: wdays.map(weekdayName), inverse: true, position: RTL ? "right" : "left",
               axisLabel: { fontFamily: FONT } },
      visualMap: { min: 0, max: heatMax, calculable: false, orient: "horizontal", bottom: 0,
                   left: "center", itemHeight: 120, text: [fmt1.format(heatMax), "0"],
                   inRange: { color: ["#f3f7fb", "#9ec5ea", "#0b5cad", "#082b55"] },
                   textStyle: { fontFamily: FONT } },
      series: [{ type: "heatmap", data: c.heatmap.map(function (x) {
        return [c.hours.indexOf(x[1]), x[0], x[2]];
      }), label: { show: c.hours.length <= 14, fontSize: 10,
                   formatter: function (p) { return p.value[2] ? fmt0.format(p.value[2]) : ""; } } }],
    }), true);

    renderDistribution();

    chart("chart-load").setOption(base({
      xAxis: catAxis(hours, S.hour),
      yAxis: [valAxis(S.arrivals_per_day), valAxis(S.counters_open, { position: RTL ? "left" : "right",
              splitLine: { show: false } })],
      series: [
        { name: S.arrivals_per_day, type: "bar", data: c.load.arrivals_per_day, itemStyle: { color: "#9ec5ea" } },
        { name: S.counters_open, type: "line", step: "middle", yAxisIndex: 1, data: c.load.counters_open,
          itemStyle: { color: "#c0392b" }, lineStyle: { width: 3 } },
      ],
    }), true);

    var periods = report.periods.map(function (p) { return periodLabel(p.period); });
    chart("chart-trend").setOption(base({
      xAxis: catAxis(periods, ""),
      yAxis: [valAxis(S.arrivals), valAxis(S.service_level, { min: 0, max: 1, position: RTL ? "left" : "right",
              splitLine: { show: false }, axisLabel: { formatter: function (v) { return fmtPct.format(v); } } })],
      series: [
        { name: S.arrivals, type: "bar", data: report.periods.map(function (p) { return p.all.arrivals; }),
          itemStyle: { color: "#9ec5ea" } },
        { name: S.service_level, type: "line", yAxisIndex: 1, symbolSize: 4,
          data: report.periods.map(function (p) { return p.all.service_level; }), itemStyle: { color: "#2e8b57" } },
      ],
    }), true);
  }

  function renderDistribution() {
    var c = report.charts, prefix = $("wait-service").value || report.services[0].prefix;
    var w = c.waits[prefix]; if (!w) return;
    var n = c.wait_bins_shown, labels = [];
    for (var i = 0; i < n; i++) labels.push(String(i));
    labels.push(n + "+");
    // the service level is the server's figure (its rule counts tickets never called too)
    var row = report.breakdowns.service.find(function (r) { return r.key === prefix; });
    var share = row ? row.service_level : null;
    var last = w.bins.length - 1;
    while (last > w.target_min + 5 && !w.bins[last]) last--;
    var shownLabels = labels.slice(0, last + 1), shown = w.bins.slice(0, last + 1);
    var xAxis = catAxis(shownLabels);
    xAxis.name = S.wait_minutes; xAxis.nameLocation = "middle"; xAxis.nameGap = 26;
    xAxis.nameTextStyle = { fontFamily: FONT };
    chart("chart-distribution").setOption(base({
      legend: { show: false },
      grid: { top: 28, bottom: 28, left: 12, right: 12, containLabel: true },
      xAxis: xAxis,
      yAxis: valAxis(S.tickets),
      series: [{
        type: "bar", barCategoryGap: "10%", name: serviceName(prefix),
        data: shown.map(function (v, i) {
          return { value: v, itemStyle: { color: i < w.target_min ? "#2e8b57" : "#d9822b" } };
        }),
        markLine: { symbol: "none", silent: true, lineStyle: { color: "#b42318", width: 2, type: "dashed" },
          label: { formatter: bidi(S.target + " " + w.target_min + " " + S.minutes +
                   (share === null ? "" : " · " + S.service_level + " " + fmtPct.format(share))),
                   fontFamily: FONT, position: "end", color: "#b42318" },
          data: [{ xAxis: String(w.target_min) }] },
      }],
    }), true);
  }
  $("wait-service").addEventListener("change", function () { if (report) renderDistribution(); });
  global.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  start();
})(window);
