// Kiosk dossier drop-off: type -> numbers on a keypad -> documents -> warning
// (missing / late) -> deposit with one idempotency key per visit -> tracking number.
(function (global) {
  "use strict";
  var K = global.TABOUR_KIOSK, D = global.TABOUR_DOSSIER_KIOSK, lang = K.lang;
  var state = { type: null, types: [], check: null, key: null, target: "insured" };
  function $(id) { return document.getElementById(id); }
  function name(n) { return (n && (n[lang] || n.fr || n.en)) || ""; }
  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (_m, k) { return v[k]; }); }
  function step(id) {
    document.querySelectorAll(".d-step").forEach(function (s) { s.hidden = s.id !== id; });
    $("d-error").hidden = true;
    document.body.dataset.step = id;
  }
  function error(msg) { $("d-error").textContent = msg; $("d-error").hidden = false; }
  function newKey() {
    var b = new Uint8Array(12); global.crypto.getRandomValues(b);
    return "dossier-" + Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  async function api(method, path, body) {
    var headers = { "Content-Type": "application/json",
                    "Accept-Language": document.documentElement.lang || "ar" };
    var tok = global.localStorage.getItem("tabour.kiosk.token");
    if (tok) headers.Authorization = "Bearer " + tok;
    for (var i = 0; ; i++) {  // network errors and 5xx: retry the same body (same key)
      try {
        var r = await fetch("/api/v1" + path, { method: method, headers: headers,
                                                body: body ? JSON.stringify(body) : undefined });
        var j = await r.json().catch(function () { return {}; });
        if (r.status >= 500 && i < 5) throw new Error("retry");
        return { ok: r.ok, status: r.status, data: j };
      } catch (e) {
        if (i >= 5) throw e;
        await new Promise(function (res) { setTimeout(res, 400 * (i + 1)); });
      }
    }
  }
  function li(ul, text, code) { var e = document.createElement("li"); e.textContent = text; if (code) e.dataset.code = code; ul.appendChild(e); }
  function form(docs) {
    return { type: state.type.code, insured_number: $("insured").value,
             national_id: $("national").value || null, documents: docs || [],
             event_date: state.type.event ? ($("event-date").value || null) : null, language: lang };
  }
  function docs() {
    return Array.prototype.filter.call($("docs").querySelectorAll("input"), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
  }

  function pickType(t) {
    state.type = t; state.key = newKey();
    $("event-label").hidden = !t.event;
    if (t.event) $("event-name").textContent = name(t.event);
    var box = $("docs"); box.textContent = "";
    t.documents.forEach(function (d) {
      var l = document.createElement("label"), c = document.createElement("input");
      c.type = "checkbox"; c.value = d.code; l.className = "doc"; l.dataset.code = d.code;
      l.appendChild(c); l.appendChild(document.createTextNode(" " + name(d.names)));
      box.appendChild(l);
    });
    step("step-ids"); $("insured").focus();
  }

  function keypad() {
    var keys = "1234567890".split("").concat(["⌫"]).concat("ABCDEFGHJKLMNPRSTUVWXYZ".split(""));
    keys.forEach(function (k) {
      var b = document.createElement("button"); b.type = "button"; b.textContent = k; b.dataset.key = k;
      b.addEventListener("click", function () {
        var input = $(state.target === "national" ? "national" : "insured");
        input.value = k === "⌫" ? input.value.slice(0, -1) : input.value + k;
      });
      $("keypad").appendChild(b);
    });
    $("insured").addEventListener("focus", function () { state.target = "insured"; });
    $("national").addEventListener("focus", function () { state.target = "national"; });
  }

  async function idsNext() {
    var r = await api("POST", "/dossiers/check", form([]));
    if (!r.ok) return error(r.data.error ? r.data.error.message : K.text.error);
    step("step-docs");
  }
  async function docsNext() {
    var r = await api("POST", "/dossiers/check", form(docs()));
    if (!r.ok) return error(r.data.error ? r.data.error.message : K.text.error);
    state.check = r.data;
    if (r.data.missing.length || r.data.late) {
      var ul = $("warn-missing"); ul.textContent = "";
      r.data.missing.forEach(function (m) { li(ul, name(m.names), m.code); });
      var late = $("warn-late"); late.textContent = "";
      r.data.deadlines.filter(function (x) { return x.past; }).forEach(function (x) {
        li(late, fmt(D.t.late, { name: name(x.names), due: x.due }), x.code);
      });
      step("step-warn");
    } else step("step-confirm");
  }
  async function deposit() {
    ["confirm", "deposit-anyway"].forEach(function (id) { $(id).disabled = true; });
    var body = form(docs()); body.idempotency_key = state.key;
    try {
      var r = await api("POST", "/dossiers", body);
      if (!r.ok) return error(r.data.error ? r.data.error.message : K.text.error);
      var d = r.data.dossier;
      $("tracking").textContent = d.display;
      $("box-text").textContent = fmt(D.t.box, { box: d.box });
      $("d-qr").src = r.data.qr;
      step("step-done");
    } finally {
      ["confirm", "deposit-anyway"].forEach(function (id) { $(id).disabled = false; });
    }
  }
  async function lookup(ev) {
    ev.preventDefault();
    var v = $("lookup").value.trim(); if (!v) return;
    var r = await fetch("/d/" + encodeURIComponent(v) + ".json",
                        { headers: { "Accept-Language": document.documentElement.lang || "ar" } });
    var j = await r.json().catch(function () { return {}; });
    if (!r.ok) { $("lookup-result").hidden = true; return error(j.error ? (r.status === 404 ? D.t.notFound : j.error.message) : K.text.error); }
    var t = D.texts[j.status] || [j.status, ""];
    $("lookup-status").textContent = name(j.type_names) + " — " + t[0];
    $("lookup-next").textContent = t[1];
    var ul = $("lookup-missing"); ul.textContent = "";
    j.missing.forEach(function (m) { li(ul, name(m.names), m.code); });
    $("lookup-result").hidden = false; $("d-error").hidden = true;
  }

  api("GET", "/dossier-types").then(function (r) {
    state.types = r.data.types;
    r.data.types.forEach(function (t) {
      var b = document.createElement("button"); b.type = "button"; b.className = "service dossier-type";
      b.dataset.type = t.code;
      var s = document.createElement("span"); s.className = "service-name"; s.textContent = name(t.names);
      b.appendChild(s);
      b.addEventListener("click", function () { pickType(t); });
      $("types").appendChild(b);
    });
  });
  keypad();
  $("ids-next").addEventListener("click", idsNext);
  $("docs-next").addEventListener("click", docsNext);
  $("deposit-anyway").addEventListener("click", deposit);
  $("confirm").addEventListener("click", deposit);
  $("lookup-form").addEventListener("submit", lookup);
  step("step-type");
})(window);
