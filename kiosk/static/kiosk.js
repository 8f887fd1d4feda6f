// Tabour kiosk: pairing, language, service, ticket. Talks to /api/v1 with the
// kiosk's device token (kept in localStorage) and follows the queue over
// Socket.IO (TabourLive). A tap carries an idempotency key that is kept until a
// ticket comes back, so a double tap or a retry after a network blip never
// issues two tickets.
(function (global) {
  "use strict";
  var C = global.TABOUR_KIOSK, T = C.text;
  var TOKEN = "tabour.kiosk.token";
  var AR_DIGITS = "٠١٢٣٤٥٦٧٨٩";

  function $(id) { return document.getElementById(id); }
  function token() { return global.localStorage.getItem(TOKEN); }
  function num(n) {
    var s = String(n);
    return C.digits === "arabic" && C.lang === "ar"
      ? s.replace(/[0-9]/g, function (d) { return AR_DIGITS[+d]; }) : s;
  }
  function fmt(s, values) {
    return s.replace(/\{(\w+)\}/g, function (_m, k) { return num(values[k]); });
  }
  function newKey() {
    var b = new Uint8Array(16);
    global.crypto.getRandomValues(b);  // works on plain http too (randomUUID does not)
    return "kiosk-" + Array.prototype.map.call(b, function (x) {
      return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function setConnection(state) { document.documentElement.dataset.connection = state; }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function unpaired() {
    global.localStorage.removeItem(TOKEN);
    global.location.href = "/kiosk/?unpaired=1&lang=" + C.lang;
  }

  // fetch with the kiosk token; with retry, network failures and 5xx are retried
  // (same body, so the same idempotency key) until the server answers
  async function api(method, path, body, retry) {
    var delay = 300;
    for (;;) {
      try {
        // refusals come back in the visitor's language
        var headers = { "Content-Type": "application/json", "Accept-Language": C.lang };
        if (token()) headers.Authorization = "Bearer " + token();
        var r = await fetch("/api/v1" + path, { method: method, headers: headers,
          body: body ? JSON.stringify(body) : undefined });
        // any 5xx is retried with the same body: the ticket may have been committed
        // before the error, and the same idempotency key then returns it
        if (r.status >= 500 && retry) throw new Error("server unavailable");
        var data = await r.json().catch(function () { return {}; });
        if (document.documentElement.dataset.connection === "reconnecting" && retry) setConnection("online");
        if (r.status === 401 && token()) { unpaired(); throw new Error("unpaired"); }
        return { status: r.status, data: data };
      } catch (err) {
        if (!retry || err.message === "unpaired") throw err;
        setConnection("reconnecting");
        await sleep(delay);
        delay = Math.min(delay * 2, 3000);
      }
    }
  }

  function banner(printer) {
    var el = $("banner"), text = null;
    if (printer) {
      var s = printer.state;
      if (s === "paper_out") text = T.paperOut;
      else if (s === "cover_open") text = T.coverOpen;
      else if (s === "paper_near_end") text = T.paperLow;
      else if (!printer.connected || s === "offline" || s === "error") text = T.printerDown;
    }
    el.hidden = !text;
    el.dataset.state = printer ? printer.state : "";
    $("banner-text").textContent = text || "";
  }

  var printerName = null;

  function watchKiosk(handlers) {
    handlers = handlers || {};
    var live = new global.TabourLive({
      token: token(), view: "kiosk",
      onSnapshot: handlers.snapshot,
      onState: function (state) {
        if (state === "refused") {  // revoked? the API says for sure
          api("GET", "/kiosk/me").catch(function () {});
        }
      },
      handlers: Object.assign({
        printer_changed: function (p) { if (p.name === printerName) banner(p); }
      }, handlers.deltas || {})
    }).start();
    api("GET", "/kiosk/me").then(function (r) {
      if (r.status === 200) { printerName = r.data.printer; banner(r.data.printer_state); }
    }).catch(function () {});
    return live;
  }

  // --- start screen: pairing, then the language buttons ------------------------------

  function startScreen() {
    var params = new URLSearchParams(global.location.search);
    if (params.get("token")) {  // a pairing link that carries the token
      global.localStorage.setItem(TOKEN, params.get("token"));
      global.history.replaceState(null, "", "/kiosk/");
    }
    if (!token()) {
      $("pairing").hidden = false;
      if (params.get("unpaired")) $("pairing-message").textContent = T.unpaired;
      setConnection("online");
      $("pairing-form").addEventListener("submit", async function (ev) {
        ev.preventDefault();
        var r = await api("POST", "/kiosk/pair", { code: $("pairing-code").value });
        if (r.status === 200) {
          global.localStorage.setItem(TOKEN, r.data.token);
          global.location.href = "/kiosk/";
        } else {
          $("pairing-message").textContent = T.badCode;
        }
      });
      return;
    }
    $("languages").hidden = false;
    watchKiosk();
  }

  // --- service screen and ticket screen ----------------------------------------------

  function servicesScreen() {
    if (!token()) { global.location.href = "/kiosk/"; return; }
    var priority = null, pendingKey = null, busy = false, services = [], current = null;
    var idleTimer = null;

    function goStart() { global.location.href = "/kiosk/"; }
    function touch() {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(goStart, C.idleSeconds * 1000);
    }
    ["pointerdown", "keydown"].forEach(function (e) { document.addEventListener(e, touch, true); });
    touch();

    function iconHtml(name) {
      var el = document.querySelector('#icon-defs [data-icon="' + name + '"]') ||
               document.querySelector('#icon-defs [data-icon="info"]');
      return el.innerHTML;
    }
    function name(names) { return names[C.lang] || names.fr || names.en || names.ar || ""; }

    function notice(text) {
      var el = $("notice");
      el.textContent = text || "";
      el.hidden = !text;
    }

    function render(list) {
      services = list || services;
      var box = $("services");
      box.innerHTML = "";
      services.filter(function (s) { return s.active !== false || true; }).forEach(function (s) {
        var open = s.open;
        var b = document.createElement("button");
        b.type = "button";
        b.className = "service" + (open ? "" : " closed");
        b.dataset.prefix = s.prefix;
        b.setAttribute("aria-disabled", open ? "false" : "true");
        var meta = open
          ? '<span class="meta"><span class="meta-item">' + iconHtml("people") +
            '<span class="waiting">' + fmt(T.waiting, { n: s.waiting }) + '</span></span>' +
            '<span class="meta-item">' + iconHtml("clock") + '<span class="estimate">' +
            fmt(T.minutes, { m: s.estimated_wait_minutes }) + "</span></span></span>"
          : '<span class="meta closed-meta">' + iconHtml("lock") + "<span>" +
            (s.active ? T.noCounter : T.closed) + "</span></span>";
        b.innerHTML = '<span class="service-icon">' + iconHtml(s.icon) + "</span>" +
          '<span class="service-text"><span class="service-name"></span>' + meta + "</span>";
        b.querySelector(".service-name").textContent = name(s.names);
        b.addEventListener("click", function () { take(s); });
        box.appendChild(b);
      });
    }

    document.querySelectorAll(".chip").forEach(function (chip) {
      chip.addEventListener("click", function () {
        var on = chip.getAttribute("aria-pressed") !== "true";
        document.querySelectorAll(".chip").forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
        chip.setAttribute("aria-pressed", on ? "true" : "false");
        priority = on ? chip.dataset.priority : null;
      });
    });

    async function take(s) {
      if (!s.open) { notice(T.serviceClosed); return; }
      if (busy) return;  // a double tap: the first one is on its way
      busy = true;
      notice(T.wait);
      pendingKey = pendingKey || newKey();  // kept until a ticket comes back
      try {
        var r = await api("POST", "/kiosk/tickets", { service: s.prefix, language: C.lang,
          priority: priority || "none", idempotency_key: pendingKey }, true);
        if (r.status === 201 || r.status === 200) {
          pendingKey = null;
          notice("");
          showTicket(r.data);
        } else {
          pendingKey = null;  // a definite 4xx: nothing was issued for this key
          var code = r.data && r.data.error && r.data.error.code;
          notice(code === "service_closed" || code === "service_unstaffed"
                 ? T.serviceClosed : T.error);
        }
      } catch (err) {
        notice(T.error);
      } finally {
        busy = false;
      }
    }

    // what the server knows of this ticket's print job: printed (confirmed by the
    // printer, or written where it cannot tell), waiting for paper, or not printed at all
    // (failed, refused, or no printer agent took it): then the visitor is told to ask at
    // reception, with their number on the screen
    var NOT_PRINTED = { failed: 1, refused: 1, not_taken: 1 };
    function printStatus(job, printer) {
      var text = T.printing, state = job ? job.status : "problem";
      if (!job) text = T.printFailed;
      else if (job.status === "printed" || job.status === "printed_unconfirmed") text = T.printed;
      else if (NOT_PRINTED[job.status]) {
        text = fmt(T.askReception, { code: current ? current.ticket.code : "" });
        state = "failed";
      } else if (job.status === "waiting_paper") { text = T.waitingPaper; state = "problem"; }
      else if (printer && (printer.state === "paper_out" || printer.state === "cover_open" ||
               printer.state === "offline" || printer.state === "error" || !printer.connected)) {
        text = T.printFailed; state = "problem";
      }
      $("print-status").dataset.status = state;
      $("print-text").textContent = text;
    }

    function showTicket(d) {
      current = d;
      var t = d.ticket;
      $("ticket-code").textContent = t.code;
      $("ticket-service").textContent = name(d.service_names);
      $("ticket-priority").hidden = t.priority === "normal";
      $("ticket-ahead").textContent = t.people_ahead > 0 ? num(t.people_ahead) : T.youAreNext;
      $("ticket-wait").textContent = fmt(T.minutesShort, { m: t.estimated_wait_minutes || 0 });
      $("ticket-qr").src = d.qr;
      printStatus(d.print, d.printer);
      $("services-screen").hidden = true;
      $("ticket-screen").hidden = false;
      document.body.classList.add("showing-ticket");
    }

    $("done").addEventListener("click", goStart);

    watchKiosk({
      snapshot: function (snap) { render(snap.services); },
      deltas: {
        queue_changed: function (p) { render(p.services); },
        print_job_changed: function (p) {
          if (current && p.job_id === current.print.job_id) { current.print = p; printStatus(p, null); }
        }
      }
    });
  }

  global.TabourKiosk = { startScreen: startScreen, servicesScreen: servicesScreen };
})(window);
