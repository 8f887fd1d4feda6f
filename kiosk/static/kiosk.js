// Tabour kiosk: ONE page that never leaves itself. Pairing, language, services, ticket,
// dossier drop-off and lookup are screens switched in place, with the strings of every
// branch language carried in the page (#kiosk-data). Nothing here navigates: a tap during
// a server outage, the idle timer or "Back" can never land on Chromium's error page.
//
// - API calls carry the kiosk's device token (localStorage) and the visitor's language;
//   taps that issue something (a ticket, a deposit) keep their idempotency key and are
//   retried until the server answers, so an outage never issues twice nor loses the tap.
// - Every screen but the start returns to the start after the idle time and clears
//   everything typed or shown (numbers, tracking number, QR). A tap still on its way is
//   kept: when it lands, its ticket is shown only if nobody touched the kiosk since.
// - Refusals are told by their code; the server's message (already in the visitor's
//   language) is shown with dir="auto".
(function (global) {
  "use strict";
  var D = JSON.parse(document.getElementById("kiosk-data").textContent);
  var TOKEN = "tabour.kiosk.token";
  var AR_DIGITS = "٠١٢٣٤٥٦٧٨٩";
  var html = document.documentElement;
  var lang = D.lang, T = D.strings[lang];
  var screen = null, epoch = 0, touchedSinceReset = false;
  var state = global.tabourKiosk = { screen: null, pending: null, resets: 0 };

  function $(id) { return document.getElementById(id); }
  function token() { return global.localStorage.getItem(TOKEN); }
  function num(n) {
    var s = String(n);
    return D.digits === "arabic" && lang === "ar"
      ? s.replace(/[0-9]/g, function (d) { return AR_DIGITS[+d]; }) : s;
  }
  function fmt(s, values) {
    return String(s).replace(/\{(\w+)\}/g, function (_m, k) {
      var v = values[k];
      return typeof v === "number" ? num(v) : (v == null ? "" : String(v));
    });
  }
  // a name in the visitor's language; Tamazight falls back to Arabic, then French
  function name(names) {
    names = names || {};
    return names[lang] || (lang === "zgh" ? names.ar : null) || names.fr || names.en ||
      names.ar || "";
  }
  function newKey(prefix) {
    var b = new Uint8Array(16);
    global.crypto.getRandomValues(b);  // works on plain http too (randomUUID does not)
    return prefix + "-" + Array.prototype.map.call(b, function (x) {
      return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function setConnection(s) { html.dataset.connection = s; }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function iconHtml(n) {
    var alias = { medical: "health", maternity: "pregnant", death: "dossier" };
    var el = document.querySelector('#icon-defs [data-icon="' + (alias[n] || n) + '"]') ||
             document.querySelector('#icon-defs [data-icon="info"]');
    return el.innerHTML;
  }

  // --- languages, in place ---------------------------------------------------------------
  function setLang(l) {
    if (!D.strings[l]) return;
    lang = l; T = D.strings[l];
    var info = D.languages.filter(function (x) { return x.lang === l; })[0];
    html.lang = l;
    html.dir = info ? info.dir : "ltr";
    // dir="auto": a string a catalog lacks comes in its fallback language (Tamazight's is
    // Arabic), and must still read in its own direction
    document.querySelectorAll("[data-t]").forEach(function (el) {
      el.textContent = T[el.dataset.t];
      if (el.tagName !== "TITLE") el.setAttribute("dir", "auto");
    });
    document.querySelectorAll("[data-t-placeholder]").forEach(function (el) {
      el.placeholder = T[el.dataset.tPlaceholder]; });
    document.querySelectorAll("[data-t-aria]").forEach(function (el) {
      el.setAttribute("aria-label", T[el.dataset.tAria]); });
    renderServices();
    renderTypes();
  }

  // --- screens, idle ------------------------------------------------------------------------
  var VIEWS = { start: "start-screen", services: "services-view", dossier: "dossier-view" };
  function show(name) {
    screen = state.screen = name;
    html.dataset.screen = name;
    Object.keys(VIEWS).forEach(function (k) { $(VIEWS[k]).hidden = k !== name; });
    global.scrollTo(0, 0);
    touch();
  }
  var idleTimer = null;
  function touch() {
    clearTimeout(idleTimer);
    if (screen && screen !== "start") idleTimer = setTimeout(reset, D.idleSeconds * 1000);
  }
  document.addEventListener("pointerdown", function () { touchedSinceReset = true; touch(); }, true);
  document.addEventListener("keydown", function () { touchedSinceReset = true; touch(); }, true);

  // back to the start screen, in place: nothing of the previous visitor stays
  function reset() {
    epoch += 1; state.resets += 1;
    touchedSinceReset = false;
    document.querySelectorAll("input").forEach(function (i) {
      if (i.id === "pairing-code") return;
      if (i.type === "checkbox") i.checked = false; else i.value = "";
    });
    ["ticket-qr", "d-qr"].forEach(function (id) { $(id).removeAttribute("src"); });
    ["ticket-code", "ticket-service", "ticket-ahead", "ticket-wait", "ticket-next-wait",
     "tracking", "box-text", "lookup-status", "lookup-next", "print-text"].forEach(function (id) {
      $(id).textContent = ""; });
    ["lookup-missing", "warn-missing", "warn-late", "docs"].forEach(function (id) { $(id).textContent = ""; });
    $("lookup-result").hidden = true;
    notice(""); dError("");
    setPriority(null);
    current = null;
    dossier.type = null; dossier.check = null; dossier.key = null;
    $("ticket-screen").hidden = true; $("services-screen").hidden = false;
    html.classList.remove("showing-ticket");
    if (D.languages.length && lang !== D.lang) setLang(D.lang);
    showStart();
  }
  function showStart() {
    show("start");
    $("pairing").hidden = !!token();
    $("languages").hidden = !token();
  }

  // --- the API -------------------------------------------------------------------------------
  function unpaired() {
    global.localStorage.removeItem(TOKEN);
    if (live && live.socket) live.socket.disconnect();  // a revoked token: stop knocking
    live = null;
    reset();
    $("pairing-message").textContent = T.unpaired;
  }
  // with ``retry``, network failures and 5xx are retried with the same body (so the same
  // idempotency key) until the server answers: the ticket may have been committed before
  // the connection broke, and the same key then returns it
  async function api(method, path, body, retry) {
    var delay = 300;
    for (;;) {
      try {
        var headers = { "Content-Type": "application/json", "Accept-Language": lang };
        if (token()) headers.Authorization = "Bearer " + token();
        var r = await fetch("/api/v1" + path, { method: method, headers: headers,
          body: body ? JSON.stringify(body) : undefined });
        if (r.status >= 500 && retry) throw new Error("server unavailable");
        var data = await r.json().catch(function () { return {}; });
        if (html.dataset.connection === "reconnecting" && retry) setConnection("online");
        if (r.status === 401 && token()) { unpaired(); throw new Error("unpaired"); }
        return { status: r.status, ok: r.ok, data: data };
      } catch (err) {
        if (!retry || err.message === "unpaired") throw err;
        setConnection("reconnecting");
        await sleep(delay);
        delay = Math.min(delay * 2, 3000);
      }
    }
  }
  function errorCode(r) { return r && r.data && r.data.error && r.data.error.code; }
  function errorMessage(r) { return (r && r.data && r.data.error && r.data.error.message) || T.error; }

  // --- printer banner, live queue -------------------------------------------------------------
  var printerName = null, live = null;
  function banner(printer) {
    var text = null;
    if (printer) {
      var s = printer.state;
      if (s === "paper_out") text = T.paperOut;
      else if (s === "cover_open") text = T.coverOpen;
      else if (s === "paper_near_end") text = T.paperLow;
      else if (!printer.connected || s === "offline" || s === "error") text = T.printerDown;
    }
    $("banner").hidden = !text;
    $("banner").dataset.state = printer ? printer.state : "";
    $("banner-text").textContent = text || "";
    lastPrinter = printer;
  }
  var lastPrinter = null;
  function kioskMe() {
    return api("GET", "/kiosk/me", null, true).then(function (r) {
      if (r.status === 200) { printerName = r.data.printer; banner(r.data.printer_state); }
    }).catch(function () {});
  }
  function watch() {
    if (live || !token()) return;
    live = new global.TabourLive({
      token: token(), view: "kiosk", lang: lang,
      onSnapshot: function (snap) { services = snap.services || []; renderServices(); },
      onState: function (st) {
        if (st === "refused") api("GET", "/kiosk/me").catch(function () {});  // revoked? says 401
        if (st === "online") kioskMe();
      },
      handlers: {
        queue_changed: function (p) { services = p.services; renderServices(); },
        printer_changed: function (p) { if (p.name === printerName) banner(p); },
        print_job_changed: function (p) {
          if (current && current.print && p.job_id === current.print.job_id) {
            current.print = p; printStatus(p, lastPrinter);
          }
        }
      }
    }).start();
  }

  // --- start: pairing, languages ----------------------------------------------------------------
  $("pairing-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var r;
    try { r = await api("POST", "/kiosk/pair", { code: $("pairing-code").value }); }
    catch (e) { $("pairing-message").textContent = T.reconnecting; return; }
    if (r.status === 200) {
      global.localStorage.setItem(TOKEN, r.data.token);
      $("pairing-code").value = ""; $("pairing-message").textContent = "";
      showStart(); watch(); kioskMe();
    } else {
      $("pairing-message").textContent = errorCode(r) === "invalid_pairing_code" ? T.badCode
        : errorMessage(r);
    }
  });
  document.querySelectorAll(".lang-button").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.dataset.lang); openServices(); });
  });

  // --- services ----------------------------------------------------------------------------------
  var services = [], priority = null, current = null;
  function notice(text) { $("notice").textContent = text || ""; $("notice").hidden = !text; }
  function openServices() {
    $("ticket-screen").hidden = true; $("services-screen").hidden = false;
    html.classList.remove("showing-ticket");
    notice(state.pending ? T.wait : "");
    show("services");
  }
  function renderServices() {
    var box = $("services");
    box.textContent = "";
    services.forEach(function (s) {
      var open = s.open;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "service" + (open ? "" : " closed");
      b.dataset.prefix = s.prefix;
      b.setAttribute("aria-disabled", open ? "false" : "true");
      var meta = open
        ? '<span class="meta"><span class="meta-item">' + iconHtml("people") +
          '<span class="waiting"></span></span><span class="meta-item">' + iconHtml("clock") +
          '<span class="estimate"></span></span></span>'
        : '<span class="meta closed-meta">' + iconHtml("lock") + '<span class="closed-text"></span></span>';
      b.innerHTML = '<span class="service-icon">' + iconHtml(s.icon) + "</span>" +
        '<span class="service-text"><span class="service-name"></span>' + meta + "</span>";
      b.querySelector(".service-name").textContent = name(s.names);
      if (open) {
        b.querySelector(".waiting").textContent = fmt(T.waiting, { n: s.waiting });
        b.querySelector(".estimate").textContent = fmt(T.minutes, { m: s.estimated_wait_minutes });
      } else {
        b.querySelector(".closed-text").textContent = s.active ? T.noCounter : T.closed;
      }
      b.addEventListener("click", function () { take(s); });
      box.appendChild(b);
    });
  }
  function setPriority(p) {
    priority = p;
    document.querySelectorAll(".chip[data-priority]").forEach(function (c) {
      c.setAttribute("aria-pressed", c.dataset.priority === p ? "true" : "false"); });
  }
  document.querySelectorAll(".chip[data-priority]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      setPriority(chip.getAttribute("aria-pressed") === "true" ? null : chip.dataset.priority);
    });
  });

  async function take(s) {
    if (!s.open) { notice(T.serviceClosed); return; }
    if (state.pending) return;  // a double tap, or a tap still on its way: one at a time
    var mine = epoch, tapLang = lang;
    var body = { service: s.prefix, language: lang, priority: priority || "none",
                 idempotency_key: newKey("kiosk") };
    state.pending = body;
    notice(T.wait);
    var slow = setTimeout(function () { if (state.pending === body && screen === "services") notice(T.reconnectingTap); }, 2500);
    var r;
    try {
      r = await api("POST", "/kiosk/tickets", body, true);
    } catch (err) {
      state.pending = null; clearTimeout(slow);
      if (epoch === mine) notice(T.error);
      return;
    }
    state.pending = null; clearTimeout(slow);
    var landed = r.status === 201 || r.status === 200;
    if (epoch !== mine) {
      // the kiosk went back to its start meanwhile (the visitor waited through an outage):
      // the ticket is printed; it is shown only if nobody has started anything since
      if (landed && screen === "start" && !touchedSinceReset && token()) {
        setLang(tapLang); show("services"); showTicket(r.data);
      }
      return;
    }
    if (landed) { notice(""); showTicket(r.data); return; }
    var code = errorCode(r);
    notice(code === "service_closed" || code === "service_unstaffed" ? T.serviceClosed
           : errorMessage(r));
  }

  // what the server knows of this ticket's print job: printed (confirmed by the printer, or
  // written where it cannot tell), waiting for paper, or not printed at all (failed,
  // refused, or no printer agent took it): then the visitor asks at reception
  var NOT_PRINTED = { failed: 1, refused: 1, not_taken: 1 };
  function printStatus(job, printer) {
    var text = T.printing, st = job ? job.status : "problem";
    if (!job) text = T.printFailed;
    else if (job.status === "printed" || job.status === "printed_unconfirmed") text = T.printed;
    else if (NOT_PRINTED[job.status]) {
      text = fmt(T.askReception, { code: current ? current.ticket.code : "" });
      st = "failed";
    } else if (job.status === "waiting_paper") { text = T.waitingPaper; st = "problem"; }
    else if (printer && (printer.state === "paper_out" || printer.state === "cover_open" ||
             printer.state === "offline" || printer.state === "error" || !printer.connected)) {
      text = T.printFailed; st = "problem";
    }
    $("print-status").dataset.status = st;
    $("print-text").textContent = text;
  }

  function showTicket(d) {
    current = d;
    var t = d.ticket;
    $("ticket-code").textContent = t.code;
    $("ticket-service").textContent = name(d.service_names);
    var mark = $("ticket-priority");
    mark.hidden = t.priority === "normal";
    mark.dataset.priority = t.priority;
    if (t.priority !== "normal") {
      mark.querySelector(".prio-icon").innerHTML = iconHtml(t.priority);
      mark.querySelector(".prio-text").textContent = T.priorityTitle + " · " + (T[t.priority] || "");
    }
    var next = !(t.people_ahead > 0);
    var facts = $("ticket-facts");
    facts.dataset.next = next ? "true" : "false";
    $("ticket-ahead").textContent = next ? "" : num(t.people_ahead);
    $("ticket-wait").textContent = next ? "" : fmt(T.minutesShort, { m: t.estimated_wait_minutes || 0 });
    $("ticket-next-wait").textContent = next && t.estimated_wait_minutes > 0
      ? fmt(T.nextWait, { m: t.estimated_wait_minutes }) : "";
    if (d.qr) $("ticket-qr").src = d.qr; else $("ticket-qr").removeAttribute("src");
    printStatus(d.print, d.printer);
    $("services-screen").hidden = true;
    $("ticket-screen").hidden = false;
    html.classList.add("showing-ticket");
    setPriority(null);
    touch();
  }
  $("done").addEventListener("click", reset);
  $("back").addEventListener("click", reset);
  $("dossier-link").addEventListener("click", function () { openDossier(); });

  // --- the keypad: one, moved under the field being typed --------------------------------------
  var target = null;
  var DIGITS = "1234567890".split(""), LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("");
  (function buildKeypad() {
    var pad = $("keypad");
    function row(keys, cls) {
      var r = document.createElement("div"); r.className = "keys " + cls;
      keys.forEach(function (k) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "key" + (k === "⌫" ? " erase" : "");
        b.dataset.key = k;
        if (k === "⌫") { b.setAttribute("aria-label", T.erase); b.dataset.tAria = "erase"; }
        b.textContent = k;
        r.appendChild(b);
      });
      pad.appendChild(r);
    }
    row(DIGITS.concat(["⌫"]), "digits");
    row(LETTERS, "letters");
    pad.addEventListener("pointerdown", function (e) { e.preventDefault(); });  // keep the focus
    pad.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-key]");
      if (b && target) press(b.dataset.key);
    });
  })();
  function dateText(digits) {
    var d = digits.slice(0, 8);
    return d.length > 4 ? d.slice(0, 2) + "/" + d.slice(2, 4) + "/" + d.slice(4)
      : d.length > 2 ? d.slice(0, 2) + "/" + d.slice(2) : d;
  }
  function press(k) {
    var kind = target.dataset.keys, v = target.value;
    if (kind === "date") {
      var digits = v.replace(/\D/g, "");
      digits = k === "⌫" ? digits.slice(0, -1) : (/\d/.test(k) ? digits + k : digits);
      target.value = dateText(digits);
      return;
    }
    if (k === "⌫") { target.value = v.slice(0, -1); return; }
    if (kind === "digits" && !/\d/.test(k)) return;
    if (target.maxLength > 0 && v.length >= target.maxLength) return;
    target.value = v + k;
  }
  function focusField(input) {
    target = input;
    var slot = input.closest(".d-step").querySelector(".keypad-slot");
    var pad = $("keypad");
    if (slot && pad.parentNode !== slot) slot.appendChild(pad);
    pad.dataset.keys = input.dataset.keys;
    document.querySelectorAll(".field").forEach(function (f) { f.classList.toggle("typing", f === input); });
  }
  document.querySelectorAll("input[data-keys]").forEach(function (input) {
    input.addEventListener("focus", function () { focusField(input); });
    input.addEventListener("click", function () { focusField(input); });
  });

  // --- dossiers -----------------------------------------------------------------------------------
  var dossier = { types: [], type: null, check: null, key: null };
  function dError(msg) { $("d-error").textContent = msg || ""; $("d-error").hidden = !msg; }
  function step(id) {
    document.querySelectorAll(".d-step").forEach(function (s) { s.hidden = s.id !== id; });
    dError("");
    $("dossier-view").dataset.step = id;
    global.scrollTo(0, 0);
    var first = $(id).querySelector("input[data-keys]");
    if (first) first.focus();
  }
  function li(ul, text, code) {
    var e = document.createElement("li"); e.textContent = text; e.dataset.code = code || "";
    e.setAttribute("dir", "auto"); ul.appendChild(e);
  }
  function loadTypes() {
    return api("GET", "/dossier-types", null, true).then(function (r) {
      dossier.types = (r.data && r.data.types) || []; renderTypes();
    }).catch(function () {});
  }
  function renderTypes() {
    var box = $("types");
    box.textContent = "";
    dossier.types.forEach(function (t) {
      var b = document.createElement("button"); b.type = "button"; b.className = "service dossier-type";
      b.dataset.type = t.code;
      b.innerHTML = '<span class="service-icon">' + iconHtml(t.icon) + '</span><span class="service-name"></span>';
      b.querySelector(".service-name").textContent = name(t.names);
      b.addEventListener("click", function () { pickType(t); });
      box.appendChild(b);
    });
  }
  function openDossier() {
    show("dossier");
    step("step-type");
    $("lookup-result").hidden = true;
    if (!dossier.types.length) loadTypes();
  }
  $("d-back").addEventListener("click", function () {
    if ($("dossier-view").dataset.step === "step-type" || $("dossier-view").dataset.step === "step-done") openServices();
    else step("step-type");
  });
  $("take-ticket").addEventListener("click", function () { openServices(); });

  function pickType(t) {
    dossier.type = t; dossier.key = newKey("dossier");
    $("event-label").hidden = !t.event;
    if (t.event) $("event-name").textContent = name(t.event);
    ["insured", "national", "event-date"].forEach(function (id) { $(id).value = ""; });
    var box = $("docs"); box.textContent = "";
    t.documents.forEach(function (d) {
      var l = document.createElement("label"), c = document.createElement("input"), s = document.createElement("span");
      c.type = "checkbox"; c.value = d.code; l.className = "doc"; l.dataset.code = d.code;
      s.textContent = name(d.names); s.setAttribute("dir", "auto");
      l.appendChild(c); l.appendChild(s);
      box.appendChild(l);
    });
    step("step-ids");
  }
  function isoDate() {  // "01/11/2026" -> "2026-11-01"; null when empty; false when impossible
    var d = $("event-date").value.replace(/\D/g, "");
    if (!d) return null;
    if (d.length !== 8) return false;
    var day = +d.slice(0, 2), month = +d.slice(2, 4), year = +d.slice(4);
    var when = new Date(Date.UTC(year, month - 1, day));
    if (when.getUTCFullYear() !== year || when.getUTCMonth() !== month - 1 || when.getUTCDate() !== day) return false;
    return d.slice(4) + "-" + d.slice(2, 4) + "-" + d.slice(0, 2);
  }
  function form(docs) {
    return { type: dossier.type.code, insured_number: $("insured").value,
             national_id: $("national").value || null, documents: docs || [],
             event_date: dossier.type.event ? isoDate() || null : null, language: lang };
  }
  function checked() {
    return Array.prototype.filter.call($("docs").querySelectorAll("input"), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
  }
  async function idsNext() {
    if (dossier.type.event && isoDate() === false) { dError(T.badDate); return; }
    var mine = epoch;
    var r = await api("POST", "/dossiers/check", form([]), true).catch(function () { return null; });
    if (epoch !== mine) return;
    if (!r || !r.ok) return dError(errorMessage(r));
    step("step-docs");
  }
  async function docsNext() {
    var mine = epoch;
    var r = await api("POST", "/dossiers/check", form(checked()), true).catch(function () { return null; });
    if (epoch !== mine) return;
    if (!r || !r.ok) return dError(errorMessage(r));
    dossier.check = r.data;
    if (r.data.missing.length || r.data.late) {
      var ul = $("warn-missing"); ul.textContent = "";
      r.data.missing.forEach(function (m) { li(ul, name(m.names), m.code); });
      var late = $("warn-late"); late.textContent = "";
      r.data.deadlines.filter(function (x) { return x.past; }).forEach(function (x) {
        li(late, fmt(T.late, { name: name(x.names), due: x.due }), x.code);
      });
      step("step-warn");
    } else step("step-confirm");
  }
  async function deposit() {
    if (state.pending) return;
    ["confirm", "deposit-anyway"].forEach(function (id) { $(id).disabled = true; });
    var body = form(checked()); body.idempotency_key = dossier.key;
    var mine = epoch;
    state.pending = body;
    try {
      var r = await api("POST", "/dossiers", body, true);
      if (epoch !== mine) return;  // reset meanwhile: deposited and printed, not shown
      if (!r.ok) return dError(errorMessage(r));
      var d = r.data.dossier;
      $("tracking").textContent = d.display;
      $("box-text").textContent = fmt(T.box, { box: d.box });
      $("d-qr").src = r.data.qr;
      ["insured", "national", "event-date"].forEach(function (id) { $(id).value = ""; });
      step("step-done");
    } catch (e) {
      if (epoch === mine) dError(T.error);
    } finally {
      state.pending = null;
      ["confirm", "deposit-anyway"].forEach(function (id) { $(id).disabled = false; });
    }
  }
  async function lookup(ev) {
    ev.preventDefault();
    var v = $("lookup").value.trim(); if (!v) return;
    var r;
    try {
      // with the kiosk's token: wrong numbers typed here count against this kiosk alone
      var headers = { "Accept-Language": lang };
      if (token()) headers.Authorization = "Bearer " + token();
      var resp = await fetch("/d/" + encodeURIComponent(v) + ".json", { headers: headers });
      r = { status: resp.status, ok: resp.ok, data: await resp.json().catch(function () { return {}; }) };
    } catch (e) { dError(T.reconnecting); return; }
    if (!r.ok) { $("lookup-result").hidden = true; return dError(r.status === 404 ? T.notFound : errorMessage(r)); }
    var j = r.data, t = (D.statusTexts[lang] || {})[j.status] || [j.status, ""];
    $("lookup-status").textContent = name(j.type_names) + " — " + t[0];
    $("lookup-next").textContent = t[1];
    var ul = $("lookup-missing"); ul.textContent = "";
    j.missing.forEach(function (m) { li(ul, name(m.names), m.code); });
    $("lookup-result").hidden = false; dError("");
    document.body.appendChild($("keypad"));  // typed: the keypad steps aside for the answer
    $("lookup-result").scrollIntoView({ block: "nearest" });
  }
  $("ids-next").addEventListener("click", idsNext);
  $("docs-next").addEventListener("click", docsNext);
  $("deposit-anyway").addEventListener("click", deposit);
  $("confirm").addEventListener("click", deposit);
  $("lookup-form").addEventListener("submit", lookup);
  $("d-done").addEventListener("click", reset);

  // --- boot ---------------------------------------------------------------------------------------
  (function boot() {
    var params = new URLSearchParams(global.location.search);
    if (params.get("token")) {  // a pairing link that carries the token: keep it, drop it from the bar
      global.localStorage.setItem(TOKEN, params.get("token"));
      params.delete("token");
      global.history.replaceState(null, "", global.location.pathname + (params.toString() ? "?" + params : ""));
    }
    if (!token()) { showStart(); setConnection("online"); return; }
    watch(); kioskMe();
    if (D.screen === "services") openServices();
    else if (D.screen === "dossier") openDossier();
    else showStart();
  })();
})(window);
