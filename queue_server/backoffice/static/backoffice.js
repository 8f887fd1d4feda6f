// Back office: list dossiers, open one (tracking number or QR value), move it one step.
// Staff token in sessionStorage (the console's key: one sign-in per tab).
(function (global) {
  "use strict";
  var B = global.TABOUR_BO, L = B.labels, lang = B.lang;
  var token = sessionStorage.getItem("tabour.console.token");
  var current = null, live = null;
  function $(id) { return document.getElementById(id); }
  function name(n) { return (n && (n[lang] || n.fr || n.en)) || ""; }
  function say(text) { $("message").textContent = text || ""; }
  function show(view) {
    $("login-view").hidden = view !== "login"; $("main-view").hidden = view !== "main";
    $("logout").hidden = view !== "main";
  }
  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method: method, body: body ? JSON.stringify(body) : undefined,
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token,
                 "Accept-Language": document.documentElement.lang || "en" }
    }).then(function (r) {
      return r.json().then(function (j) {
        if (r.status === 401) { signOut(); }
        if (!r.ok) { throw new Error((j.error && j.error.message) || r.statusText); }
        return j;
      });
    });
  }
  function signOut() { sessionStorage.removeItem("tabour.console.token"); token = null; show("login"); }
  function li(parent, text, code) {
    var e = document.createElement("li"); e.textContent = text; if (code) e.dataset.code = code;
    parent.appendChild(e);
  }

  function loadList() {
    var f = $("filter").value;
    var q = f === "today" ? "?day=today" : "?status=" + encodeURIComponent(f);
    return api("GET", "/dossiers" + q).then(function (j) {
      var tb = $("list").querySelector("tbody"); tb.textContent = "";
      j.dossiers.forEach(function (d) {
        var tr = document.createElement("tr"); tr.dataset.tracking = d.tracking;
        [d.display, name(d.type_names), (B.texts[d.status] || [d.status])[0],
         (d.deposited_at || "").slice(11, 16)].forEach(function (v) {
          var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
        });
        tr.addEventListener("click", function () { open(d.tracking); });
        tb.appendChild(tr);
      });
    }).catch(function (e) { say(e.message); });
  }

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
    var dec = $("d-declared"), mis = $("d-missing"), h = $("d-history");
    dec.textContent = ""; mis.textContent = ""; h.textContent = "";
    (d.declared || []).forEach(function (x) { li(dec, name(x.names), x.code); });
    (d.missing || []).forEach(function (x) { li(mis, name(x.names), x.code); });
    (d.history || []).forEach(function (x) {
      var st = x.type.replace("dossier_", "");  // the event names the status it leads to
      li(h, (x.at || "").slice(0, 16).replace("T", " ") + " — " + (B.texts[st] || [st])[0] +
         " — " + x.actor + (x.data.reason ? " (" + x.data.reason + ")" : ""));
    });
    var acts = $("actions"); acts.textContent = "";
    Object.keys(B.transitions).forEach(function (a) {
      if (B.transitions[a].from.indexOf(d.status) < 0) return;
      var b = document.createElement("button"); b.type = "button"; b.textContent = L[a];
      b.dataset.action = a;
      b.addEventListener("click", function () { act(a); });
      acts.appendChild(b);
    });
    $("incomplete-box").hidden = true; $("reject-box").hidden = true;
    var boxes = $("doc-boxes"); boxes.textContent = "";
    (d.documents || []).forEach(function (x) {
      var l = document.createElement("label"), c = document.createElement("input");
      c.type = "checkbox"; c.value = x.code;
      c.checked = (d.missing || []).some(function (m) { return m.code === x.code; });
      l.appendChild(c); l.appendChild(document.createTextNode(" " + name(x.names)));
      boxes.appendChild(l);
    });
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
    if (a === "incomplete") { $("incomplete-box").hidden = false; return; }
    if (a === "reject") { $("reject-box").hidden = false; $("reject-reason").focus(); return; }
    send({ action: a });
  }
  $("confirm-incomplete").addEventListener("click", function () {
    var missing = Array.prototype.filter.call($("doc-boxes").querySelectorAll("input"),
      function (c) { return c.checked; }).map(function (c) { return c.value; });
    send({ action: "incomplete", missing: missing });
  });
  $("confirm-reject").addEventListener("click", function () {
    send({ action: "reject", reason: $("reject-reason").value });
  });
  $("open-form").addEventListener("submit", function (e) {
    e.preventDefault();  // a QR scanner types the URL and Enter: the API accepts both
    var v = $("lookup").value; if (v.trim()) open(v); $("lookup").value = "";
  });
  $("filter").addEventListener("change", loadList);
  $("logout").addEventListener("click", signOut);
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/api/v1/auth/token", { method: "POST", headers: { "Content-Type": "application/json",
                                                            "Accept-Language": document.documentElement.lang || "en" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) { say((res.j.error && res.j.error.message) || L.wrong_login); return; }
        token = res.j.token; sessionStorage.setItem("tabour.console.token", token); start();
      });
  });

  function start() {
    show("main"); loadList();
    if (live || !global.TabourLive) return;
    live = new global.TabourLive({ token: token, view: "counter", handlers: {
      dossier_changed: function (m) {
        loadList();
        if (current && m.tracking === current.tracking && m.event) { /* re-open shows the change */ }
      } } });
    live.start();
  }
  if (token) start(); else show("login");
})(window);
