// Back office: list dossiers (a page of 20, newest first), find them by insured number,
// open one (tracking number or QR value), move it one step. Staff token in sessionStorage
// (the console's key: one sign-in per tab). The server's refusals are shown as it words
// them (in this page's language, dir="auto"); the page branches on codes only.
(function (global) {
  "use strict";
  var B = JSON.parse(document.getElementById("bo-data").textContent), L = B.labels, lang = B.lang;
  var PAGE = 20;
  var token = sessionStorage.getItem("tabour.console.token");
  var current = null, live = null, cursors = [null], query = null;
  function $(id) { return document.getElementById(id); }
  function name(n) { return (n && (n[lang] || n.fr || n.en)) || ""; }
  function fmt(s, v) { return String(s).replace(/\{(\w+)\}/g, function (_m, k) { return v[k]; }); }
  function say(text) { $("message").textContent = text || ""; $("message").hidden = !text; }
  function show(view) {
    $("login-view").hidden = view !== "login"; $("main-view").hidden = view !== "main";
    $("logout").hidden = view !== "main";
  }
  var params = new URLSearchParams(global.location.search);
  if (params.get("lang")) document.cookie = "lang=" + params.get("lang") + "; path=/; max-age=31536000";

  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method: method, body: body ? JSON.stringify(body) : undefined,
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token,
                 "Accept-Language": lang }
    }).then(function (r) {
      return r.json().then(function (j) {
        if (r.status === 401) { signOut(); }
        if (!r.ok) { throw new Error((j.error && j.error.message) || r.statusText); }
        return j;
      });
    });
  }
  function signOut() {
    sessionStorage.removeItem("tabour.console.token"); token = null;
    if (live && live.socket) live.socket.disconnect();
    live = null; show("login");
  }
  function li(parent, text, code) {
    var e = document.createElement("li"); e.textContent = text; e.setAttribute("dir", "auto");
    if (code) e.dataset.code = code;
    parent.appendChild(e);
  }
  // "user:Amina" -> "Amina"; "device:Kiosk 1" -> "Kiosk 1 (device)"; the system by its name
  function who(actor) {
    var i = String(actor || "").indexOf(":"), kind = actor.slice(0, i), rest = actor.slice(i + 1);
    if (kind === "user") return rest;
    if (kind === "device") return rest + " (" + L.device + ")";
    return L.system;
  }
  function when(iso, today) {
    if (!iso) return "";
    return today ? iso.slice(11, 16) : iso.slice(0, 16).replace("T", " ");
  }

  // --- the list --------------------------------------------------------------------------
  function listPath(before) {
    var q = query ? "?insured=" + encodeURIComponent(query)
      : $("filter").value === "today" ? "?day=today" : "?status=" + encodeURIComponent($("filter").value);
    return "/dossiers" + q + "&limit=" + PAGE + (before ? "&before=" + before : "");
  }
  function loadList() {
    var page = cursors.length - 1;
    return api("GET", listPath(cursors[page])).then(function (j) {
      var tb = $("list").querySelector("tbody"); tb.textContent = "";
      var today = !query && $("filter").value === "today";
      j.dossiers.forEach(function (d) {
        var tr = document.createElement("tr"); tr.dataset.tracking = d.tracking;
        if (current && current.tracking === d.tracking) tr.setAttribute("aria-selected", "true");
        var cells = [[d.display, "tracking", "ltr"], [name(d.type_names), "", "auto"], null,
                     [d.insured, "", "ltr"], [when(d.deposited_at, today), "", "ltr"]];
        cells.forEach(function (c) {
          var td = document.createElement("td");
          if (c === null) {
            var st = document.createElement("span"); st.className = "st"; st.dataset.status = d.status;
            st.textContent = (B.texts[d.status] || [d.status])[0]; td.appendChild(st);
          } else {
            td.textContent = c[0]; if (c[1]) td.className = c[1]; td.setAttribute("dir", c[2]);
          }
          tr.appendChild(td);
        });
        tr.tabIndex = 0;
        tr.addEventListener("click", function () { open(d.tracking); });
        tr.addEventListener("keydown", function (e) { if (e.key === "Enter") open(d.tracking); });
        tb.appendChild(tr);
      });
      $("empty").hidden = j.dossiers.length > 0;
      var first = page * PAGE + 1;
      $("page-info").textContent = j.dossiers.length ? fmt(L.page, { from: first, to: first + j.dossiers.length - 1 }) : "";
      $("prev-page").disabled = page === 0;
      $("next-page").disabled = !j.next;
      $("next-page").dataset.next = j.next || "";
    }).catch(function (e) { say(e.message); });
  }
  $("next-page").addEventListener("click", function () {
    var next = +$("next-page").dataset.next;
    if (next) { cursors.push(next); loadList(); }
  });
  $("prev-page").addEventListener("click", function () {
    if (cursors.length > 1) { cursors.pop(); loadList(); }
  });
  function restart() { cursors = [null]; return loadList(); }
  $("filter").addEventListener("change", function () { query = null; $("insured-search").value = "";
    $("clear-search").hidden = true; say(""); restart(); });
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var v = $("insured-search").value.trim();
    query = v || null; $("clear-search").hidden = !query; say(""); restart();
  });
  $("clear-search").addEventListener("click", function () {
    query = null; $("insured-search").value = ""; $("clear-search").hidden = true; restart();
  });

  // --- one dossier ------------------------------------------------------------------------
  function render(d) {
    current = d;
    $("detail").hidden = false;
    $("d-tracking").textContent = d.display;
    $("d-type").textContent = name(d.type_names);
    $("d-status").textContent = (B.texts[d.status] || [d.status])[0];
    $("detail").dataset.status = d.status;
    $("d-insured").textContent = d.insured_number;
    $("d-national").textContent = d.national_id || "–";
    $("d-box").textContent = d.box;
    $("d-note").textContent = d.internal_note || "–";
    $("d-note-input").value = "";
    var dec = $("d-declared"), mis = $("d-missing"), h = $("d-history");
    dec.textContent = ""; mis.textContent = ""; h.textContent = "";
    (d.declared || []).forEach(function (x) { li(dec, name(x.names), x.code); });
    (d.missing || []).forEach(function (x) { li(mis, name(x.names), x.code); });
    (d.history || []).forEach(function (x) {
      var st = x.type.replace("dossier_", "");  // the event names the status it leads to
      var e = document.createElement("li");
      var t = document.createElement("time"); t.textContent = (x.at || "").slice(0, 16).replace("T", " ");
      t.setAttribute("dir", "ltr");
      var what = document.createElement("span"); what.setAttribute("dir", "auto");
      what.textContent = " " + (B.texts[st] || [st])[0] + " — " + who(x.actor) +
        (x.data.reason ? " (" + (B.reasons[x.data.reason] || x.data.reason) + ")" : "");
      e.appendChild(t); e.appendChild(what); h.appendChild(e);
    });
    var acts = $("actions"); acts.textContent = "";
    Object.keys(B.transitions).forEach(function (a) {
      if (B.transitions[a].from.indexOf(d.status) < 0) return;
      var b = document.createElement("button"); b.type = "button"; b.textContent = L[a];
      b.dataset.action = a;
      b.addEventListener("click", function () { act(a); });
      acts.appendChild(b);
    });
    $("incomplete-box").hidden = true; $("reject-box").hidden = true; $("note-box").hidden = true;
    var boxes = $("doc-boxes"); boxes.textContent = "";
    (d.documents || []).forEach(function (x) {
      var l = document.createElement("label"), c = document.createElement("input");
      c.type = "checkbox"; c.value = x.code;
      c.checked = (d.missing || []).some(function (m) { return m.code === x.code; });
      l.appendChild(c); l.appendChild(document.createTextNode(" " + name(x.names)));
      boxes.appendChild(l);
    });
    document.querySelectorAll("#list tbody tr").forEach(function (tr) {
      tr.setAttribute("aria-selected", tr.dataset.tracking === d.tracking ? "true" : "false"); });
  }
  function open(value) {
    say("");
    value = value.trim();
    if (value.indexOf("/d/") >= 0) value = value.split("/d/").pop().split(/[?#]/)[0];  // a scanned QR URL
    return api("GET", "/dossiers/" + encodeURIComponent(value))
      .then(render).catch(function (e) { say(e.message); });
  }
  function send(body) {
    return api("POST", "/dossiers/" + current.tracking + "/transitions", body)
      .then(function () { return open(current.tracking); })
      .then(loadList).catch(function (e) { say(e.message); });
  }
  function act(a) {
    if (a === "incomplete") { $("incomplete-box").hidden = false; $("note-box").hidden = false; return; }
    if (a === "reject") { $("reject-box").hidden = false; $("note-box").hidden = false; $("reject-reason").focus(); return; }
    send({ action: a });
  }
  $("confirm-incomplete").addEventListener("click", function () {
    var missing = Array.prototype.filter.call($("doc-boxes").querySelectorAll("input"),
      function (c) { return c.checked; }).map(function (c) { return c.value; });
    send({ action: "incomplete", missing: missing, note: $("d-note-input").value.trim() || null });
  });
  $("confirm-reject").addEventListener("click", function () {
    send({ action: "reject", reason: $("reject-reason").value || null,
           note: $("d-note-input").value.trim() || null });
  });
  $("open-form").addEventListener("submit", function (e) {
    e.preventDefault();  // a QR scanner types the URL and Enter: the API accepts both
    var v = $("lookup").value; if (v.trim()) open(v); $("lookup").value = "";
  });
  // the server revokes the token (and cuts its sockets); the page forgets it either way
  function logoutOnServer(t) {
    if (!t) return;
    fetch("/api/v1/auth/logout", { method: "POST", keepalive: true, body: "{}",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + t } })
      .catch(function () {});
  }
  $("logout").addEventListener("click", function () { logoutOnServer(token); signOut(); });
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/api/v1/auth/token", { method: "POST", headers: { "Content-Type": "application/json",
                                                            "Accept-Language": lang },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) { say((res.j.error && res.j.error.message) || L.wrong_login); return; }
        token = res.j.token; sessionStorage.setItem("tabour.console.token", token);
        sessionStorage.setItem("tabour.console.user", JSON.stringify(res.j.user || {}));
        say(""); start();
      });
  });

  function start() {
    var user = JSON.parse(sessionStorage.getItem("tabour.console.user") || "null");
    $("who").textContent = user && user.display_name ? user.display_name : "";
    show("main"); restart();
    if (live || !global.TabourLive) return;
    live = new global.TabourLive({ token: token, view: "counter", lang: lang, handlers: {
      dossier_changed: function () { loadList(); } } });
    live.start();
  }
  if (token) start(); else show("login");
})(window);
