// Tabour administration page. Reads /api/v1/admin/overview (what the branch is and what the
// caller may change) and sends each change as one request; the server checks every rule and
// answers refusals in the page's language. Sign-in and the staff token: static/js/tabour-staff.js.
(function (global) {
  "use strict";
  var A = JSON.parse(document.getElementById("admin-data").textContent), S = A.strings, LANG = A.lang;
  var WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  var $ = function (id) { return document.getElementById(id); };
  var data = null, tab = null;
  global.tabourAdmin = { loaded: 0, saved: 0, data: null };

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function name(names) { return (names && (names[LANG] || names.fr || names.en)) || ""; }
  function when(iso) { // the branch's own clock, as the server wrote it: "29/11 14:20"
    if (!iso) return "–";
    return iso.slice(8, 10) + "/" + iso.slice(5, 7) + " " + iso.slice(11, 16);
  }

  // --- sign in, requests (static/js/tabour-staff.js) --------------------------------------------
  var staff = new global.TabourStaff({
    lang: LANG, main: "admin-view",
    strings: { wrong_login: S.wrong_login, session_expired: S.session_expired,
               not_staff: S.not_staff },
    onStart: start,
    onSignOut: function () { data = null; },
  });
  function message(text, kind) { staff.message(text, kind); }
  function api(method, path, body) { return staff.api(method, path, body); }
  // a change: on success say so and read the branch again; on refusal show the server's words
  function change(method, path, body, done) {
    return api(method, path, body).then(function (res) {
      if (!res.ok) { message(res.body.error ? res.body.error.message : String(res.status)); return res; }
      message(S.saved, "info");
      global.tabourAdmin.saved += 1;
      if (done) done(res.body);
      return reload().then(function () { return res; });
    }).catch(function (e) { if (e.message !== "401") message(e.message); });
  }

  // --- start, tabs --------------------------------------------------------------------------
  function start() {
    reload().then(function () {
      var first = Array.prototype.find.call(document.querySelectorAll("[data-tab]"), function (b) {
        return !b.hidden;
      });
      if (!select(location.hash.slice(1)) && first) select(first.dataset.tab);
    });
  }
  function reload() {
    return api("GET", "/admin/overview").then(function (res) {
      if (res.status === 403) { staff.signOut(res.body.error.message); return; }
      data = res.body; global.tabourAdmin.data = data;
      $("branch-name").textContent = name(data.branch.names);
      document.querySelectorAll("[data-needs]").forEach(function (b) {
        b.hidden = !data.may[b.dataset.needs];
      });
      renderAll();
      loadSync();
      global.tabourAdmin.loaded += 1;
      document.documentElement.dataset.state = "ready";
    });
  }
  function select(name) {
    var button = document.querySelector('[data-tab="' + name + '"]');
    if (!button || button.hidden) return false;
    tab = name;
    document.querySelectorAll("[data-tab]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.dataset.tab === name));
    });
    document.querySelectorAll(".tab").forEach(function (s) { s.hidden = s.id !== "tab-" + name; });
    history.replaceState(null, "", "#" + name);
    if (name === "devices") loadDevices();
    if (name === "users") loadUsers();
    if (name === "history") loadHistory();
    if (name === "sync") loadSync();
    return true;
  }
  document.querySelectorAll("[data-tab]").forEach(function (b) {
    b.addEventListener("click", function () { select(b.dataset.tab); });
  });
  function renderAll() {
    renderServices(); renderCounters(); renderZones(); renderHours();
    $("display-zone").innerHTML = '<option value="">' + esc(S.whole_branch) + "</option>" +
      data.zones.map(function (z) { return '<option value="' + esc(z.name) + '">' + esc(z.name) + "</option>"; }).join("");
    $("new-role").innerHTML = data.may.roles.map(function (r) {
      return '<option value="' + r + '">' + esc(S["role_" + r]) + "</option>";
    }).join("");
    $("region-codes").innerHTML = Object.keys(data.may.regions || {}).map(function (c) {
      return '<option value="' + esc(c) + '">' + esc((data.may.regions[c] || {})[LANG] || c) + "</option>";
    }).join("");
    scopeFields();
    if (tab === "devices") loadDevices();
    if (tab === "users") loadUsers();
    if (tab === "history") loadHistory();
  }

  // --- kiosks and displays ------------------------------------------------------------------
  $("pair-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { kiosk_name: $("pair-name").value.trim() };
    if ($("pair-printer").value.trim()) body.printer = $("pair-printer").value.trim();
    api("POST", "/kiosk/pairing-codes", body).then(function (res) {
      if (!res.ok) { message(res.body.error.message); return; }
      $("kiosk-link-result").hidden = true;
      $("pair-result").hidden = false;
      $("pair-code").textContent = res.body.code;
      $("pair-expires").textContent = S.code_expires.replace("{time}", res.body.expires_at.slice(11, 16));
      message("");
      loadDevices();
    });
  });
  $("kiosk-link").addEventListener("click", function () {
    var n = $("pair-name").value.trim();
    if (!n) { $("pair-name").reportValidity(); return; }
    api("POST", "/devices", { role: "kiosk", name: n }).then(function (res) {
      if (!res.ok) { message(res.body.error.message); return; }
      var url = location.origin + "/kiosk/?token=" + encodeURIComponent(res.body.token);
      $("pair-result").hidden = true;
      $("kiosk-link-result").hidden = false;
      $("kiosk-link-url").href = url; $("kiosk-link-url").textContent = url;
      loadDevices();
    });
  });
  $("display-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { name: $("display-name").value.trim() };
    if ($("display-zone").value) body.zone = $("display-zone").value;
    api("POST", "/admin/display-links", body).then(function (res) {
      if (!res.ok) { message(res.body.error.message); return; }
      $("display-result").hidden = false;
      $("display-url").href = res.body.url; $("display-url").textContent = res.body.url;
      loadDevices();
    });
  });
  function loadDevices() {
    if (!data || !data.may.devices) return;
    api("GET", "/admin/devices").then(function (res) {
      if (!res.ok) return;
      $("devices").tBodies[0].innerHTML = res.body.devices.map(function (d) {
        var seen = d.revoked ? S.revoked : d.connected ? S.connected_now : (d.last_seen_at ? when(d.last_seen_at) : S.never_seen);
        var printer = d.printer ? esc(d.printer.name) + " · " + esc(S["printer_" + d.printer.state] || d.printer.state) : "";
        return '<tr class="' + (d.revoked ? "revoked" : "") + '"><th scope="row" dir="auto">' + esc(d.name) + "</th><td>" +
          esc(S["device_" + d.role] || d.role) + '</td><td class="' + (d.connected ? "ok" : "") + '"><bdi>' + esc(seen) + "</bdi>" +
          "</td><td>" + printer + "</td><td>" +
          (d.revoked ? "" : '<button type="button" data-revoke="' + d.token_id + '">' + esc(S.revoke) + "</button>") +
          "</td></tr>";
      }).join("");
    });
  }

  // --- users ---------------------------------------------------------------------------------
  $("user-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {
      username: $("new-username").value.trim(), display_name: $("new-display").value.trim(),
      role: $("new-role").value, password: $("new-password").value,
    };
    if (body.role === "supervisor") { // a supervisor watches regions, branches or the network
      var kind = $("new-scope-kind").value, codes = $("new-scope-codes").value.split(",")
        .map(function (c) { return c.trim(); }).filter(Boolean);
      body.scope = kind === "national" ? { national: true } : {};
      if (kind !== "national") body.scope[kind] = codes;
    }
    change("POST", "/admin/users", body)
      .then(function (res) { if (res && res.ok) { $("user-form").reset(); scopeFields(); loadUsers(); } });
  });
  function scopeFields() {
    var sup = $("new-role").value === "supervisor";
    $("scope-kind-label").hidden = !sup;
    $("scope-codes-label").hidden = !sup || $("new-scope-kind").value === "national";
  }
  $("new-role").addEventListener("change", scopeFields);
  $("new-scope-kind").addEventListener("change", scopeFields);
  function loadUsers() {
    if (!data || !data.may.users) return;
    loadSessions();
    api("GET", "/admin/users").then(function (res) {
      if (!res.ok) return;
      $("users").tBodies[0].innerHTML = res.body.users.map(function (u) {
        var actions = !u.may_manage ? "" :
          '<button type="button" data-password="' + u.id + '">' + esc(S.new_password) + "</button> " +
          (u.yourself ? "" : u.active
            ? '<button type="button" data-disable="' + u.id + '">' + esc(S.disable) + "</button>"
            : '<button type="button" data-enable="' + u.id + '">' + esc(S.enable) + "</button>");
        return '<tr class="' + (u.active ? "" : "revoked") + '" data-user="' + esc(u.username) + '"><th scope="row" dir="ltr">' +
          esc(u.username) + "</th><td>" + esc(u.display_name) + "</td><td>" + esc(S["role_" + u.role]) +
          "</td><td>" + esc(u.active ? S.active : S.disabled) + "</td><td>" + actions + "</td></tr>";
      }).join("");
    });
  }
  function loadSessions() {
    api("GET", "/admin/sessions").then(function (res) {
      if (!res.ok) return;
      $("sessions").tBodies[0].innerHTML = res.body.sessions.map(function (x) {
        return '<tr data-session-of="' + esc(x.username) + '"><th scope="row" dir="ltr">' + esc(x.username) +
          '</th><td><bdi dir="ltr">' + esc(when(x.created_at)) + '</bdi></td><td><bdi dir="ltr">' + esc(when(x.expires_at)) +
          "</bdi></td><td>" + (x.yours ? esc(S.this_session) : '<button type="button" data-end-session="' + x.token_id + '">' +
          esc(S.end_session) + "</button>") + "</td></tr>";
      }).join("");
    });
  }

  // --- services --------------------------------------------------------------------------------
  function renderServices() {
    $("services").tBodies[0].innerHTML = data.services.map(function (s) {
      return '<tr data-prefix="' + esc(s.prefix) + '"><th scope="row"><span class="prefix">' + esc(s.prefix) + "</span></th>" +
        ["ar", "fr", "en"].map(function (l) {
          return '<td><input data-name="' + l + '" lang="' + l + '" dir="' + (l === "ar" ? "rtl" : "ltr") +
            '" value="' + esc(s.names[l] || "") + '" maxlength="80"></td>';
        }).join("") +
        '<td><input data-f="icon" value="' + esc(s.icon) + '" maxlength="40" size="7" dir="ltr"></td>' +
        '<td><input data-f="target" type="number" min="1" max="600" value="' + s.target_wait_minutes + '"></td>' +
        '<td><input data-f="active" type="checkbox"' + (s.active ? " checked" : "") + "></td>" +
        '<td><input data-f="closed_today" type="checkbox"' + (s.closed_today ? " checked" : "") + "></td>" +
        '<td><input data-f="cutoff" type="time" value="' + esc(s.cutoff || "") + '"></td>' +
        '<td dir="ltr">' + esc(s.counters.join(", ") || "–") + "</td>" +
        '<td><button type="button" class="primary" data-save-service="' + esc(s.prefix) + '">' + esc(S.save) + "</button></td></tr>";
    }).join("");
  }
  function saveService(prefix) {
    var tr = document.querySelector('#services tr[data-prefix="' + prefix + '"]');
    var f = function (k) { return tr.querySelector('[data-f="' + k + '"]'); };
    var names = {};
    tr.querySelectorAll("[data-name]").forEach(function (i) { if (i.value.trim()) names[i.dataset.name] = i.value.trim(); });
    change("PATCH", "/services/" + encodeURIComponent(prefix), {
      names: names, icon: f("icon").value.trim() || undefined,
      target_wait_minutes: parseInt(f("target").value, 10) || undefined,
      active: f("active").checked, closed_today: f("closed_today").checked,
      cutoff: f("cutoff").value || null,
    });
  }

  // --- counters --------------------------------------------------------------------------------
  function renderCounters() {
    $("counters").innerHTML = data.counters.map(function (c) {
      var free = data.services.filter(function (s) { return c.services.indexOf(s.prefix) < 0; });
      return '<article class="counter-edit" data-number="' + c.number + '"><header><b>' + esc(S.counter_n.replace("{n}", c.number)) +
        '</b> <input data-f="name" dir="auto" value="' + esc(c.name) + '" maxlength="80"></header>' +
        '<ol class="chips">' + c.services.map(function (p, i) {
          var s = data.services.find(function (x) { return x.prefix === p; });
          return '<li data-prefix="' + esc(p) + '"><span class="prefix">' + esc(p) + "</span> " + esc(s ? name(s.names) : "") +
            ' <button type="button" data-move="-1" aria-label="' + esc(S.move_up) + '"' + (i === 0 ? " disabled" : "") + ">▲</button>" +
            '<button type="button" data-move="1" aria-label="' + esc(S.move_down) + '"' + (i === c.services.length - 1 ? " disabled" : "") + ">▼</button>" +
            '<button type="button" data-remove aria-label="' + esc(S.remove) + '">✕</button></li>';
        }).join("") + "</ol>" +
        '<div class="row"><select data-f="add"><option value="">' + esc(S.add_service) + "</option>" +
        free.map(function (s) { return '<option value="' + esc(s.prefix) + '">' + esc(s.prefix + " · " + name(s.names)) + "</option>"; }).join("") +
        '</select><button type="button" class="primary" data-save-counter="' + c.number + '">' + esc(S.save) + "</button></div></article>";
    }).join("");
  }
  function counterServices(card) {
    return Array.prototype.map.call(card.querySelectorAll("li[data-prefix]"), function (li) { return li.dataset.prefix; });
  }
  function setCounterServices(card, list) {
    var c = data.counters.find(function (x) { return String(x.number) === card.dataset.number; });
    c.services = list;
    c.name = card.querySelector('[data-f="name"]').value;
    renderCounters();
  }

  // --- zones -----------------------------------------------------------------------------------
  function renderZones() {
    $("zones").innerHTML = data.zones.map(function (z, i) {
      return '<fieldset class="zone" data-i="' + i + '"><legend><input data-f="zname" value="' + esc(z.name) +
        '" pattern="[A-Za-z0-9_-]{1,40}" dir="ltr" aria-label="' + esc(S.zone_name) + '"> ' +
        '<button type="button" data-remove-zone="' + i + '">' + esc(S.remove) + "</button></legend>" +
        '<p><b>' + esc(S.services) + "</b> " + data.services.map(function (s) {
          return '<label class="inline"><input type="checkbox" data-zs="' + esc(s.prefix) + '"' +
            (z.services.indexOf(s.prefix) >= 0 ? " checked" : "") + "> " + esc(s.prefix) + "</label>";
        }).join(" ") + "</p><p><b>" + esc(S.counters) + "</b> " + data.counters.map(function (c) {
          return '<label class="inline"><input type="checkbox" data-zc="' + c.number + '"' +
            (z.counters.indexOf(c.number) >= 0 ? " checked" : "") + "> " + c.number + "</label>";
        }).join(" ") + "</p></fieldset>";
    }).join("") || '<p class="quiet">' + esc(S.no_zones) + "</p>";
  }
  function readZones() {
    return Array.prototype.map.call(document.querySelectorAll("#zones fieldset.zone"), function (f) {
      return {
        name: f.querySelector('[data-f="zname"]').value.trim(),
        services: Array.prototype.filter.call(f.querySelectorAll("[data-zs]"), function (i) { return i.checked; })
          .map(function (i) { return i.dataset.zs; }),
        counters: Array.prototype.filter.call(f.querySelectorAll("[data-zc]"), function (i) { return i.checked; })
          .map(function (i) { return parseInt(i.dataset.zc, 10); }),
      };
    });
  }
  $("add-zone").addEventListener("click", function () {
    data.zones = readZones().concat([{ name: "", services: [], counters: [] }]);
    renderZones();
    var inputs = document.querySelectorAll('#zones [data-f="zname"]');
    inputs[inputs.length - 1].focus();
  });
  $("save-zones").addEventListener("click", function () {
    change("PUT", "/admin/display-zones", { zones: readZones() });
  });

  // --- hours -----------------------------------------------------------------------------------
  function intervalsText(list) {
    return (list || []).map(function (iv) { return iv[0] + "-" + iv[1]; }).join(", ");
  }
  function parseIntervals(text) { // "08:30-12:00, 14:00-16:30" -> [["08:30","12:00"], ...]
    return text.split(/[,;]/).map(function (p) { return p.trim(); }).filter(Boolean).map(function (p) {
      var m = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$/.exec(p);
      return m ? [m[1].padStart(5, "0"), m[2].padStart(5, "0")] : [p, ""];
    });
  }
  function renderHours() {
    var sch = data.schedule;
    $("hours-set").checked = sch.weekly !== null;
    $("weekly").tBodies[0].innerHTML = WEEKDAYS.map(function (d) {
      return '<tr><th scope="row">' + esc(S["day_" + d]) + '</th><td><input data-day="' + d + '" dir="ltr" placeholder="08:30-16:30" value="' +
        esc(intervalsText(sch.weekly ? sch.weekly[d] : [])) + '"' + (sch.weekly === null ? " disabled" : "") + "></td></tr>";
    }).join("");
    $("special").tBodies[0].innerHTML = sch.special.map(specialRow).join("");
    $("pause-minutes").value = data.policy.pause_alert_minutes;
  }
  function specialRow(sp) {
    return '<tr class="special"><td><input type="date" data-f="from" value="' + esc(sp.from) + '"></td>' +
      '<td><input type="date" data-f="to" value="' + esc(sp.to) + '"></td>' +
      '<td><input type="checkbox" data-f="closed"' + (sp.closed ? " checked" : "") + "></td>" +
      '<td><input data-f="hours" dir="ltr" placeholder="09:00-15:00" value="' + esc(intervalsText(sp.hours)) + '"></td>' +
      '<td><input data-f="note" maxlength="80" value="' + esc(sp.note) + '"></td>' +
      '<td><button type="button" data-remove-special>' + esc(S.remove) + "</button></td></tr>";
  }
  $("hours-set").addEventListener("change", function () {
    document.querySelectorAll("[data-day]").forEach(function (i) { i.disabled = !$("hours-set").checked; });
  });
  $("add-special").addEventListener("click", function () {
    $("special").tBodies[0].insertAdjacentHTML("beforeend", specialRow({ from: "", to: "", closed: true, hours: [], note: "" }));
  });
  $("save-hours").addEventListener("click", function () {
    var weekly = null;
    if ($("hours-set").checked) {
      weekly = {};
      document.querySelectorAll("[data-day]").forEach(function (i) { weekly[i.dataset.day] = parseIntervals(i.value); });
    }
    var special = Array.prototype.map.call(document.querySelectorAll("#special tr.special"), function (tr) {
      var f = function (k) { return tr.querySelector('[data-f="' + k + '"]'); };
      var closed = f("closed").checked;
      return { from: f("from").value, to: f("to").value || f("from").value, closed: closed,
               hours: closed ? [] : parseIntervals(f("hours").value), note: f("note").value.trim() };
    });
    change("PUT", "/admin/schedule", { weekly: weekly, special: special });
  });
  $("policy-form").addEventListener("submit", function (e) {
    e.preventDefault();
    change("PATCH", "/admin/policy", { pause_alert_minutes: parseInt($("pause-minutes").value, 10) });
  });

  // --- history -----------------------------------------------------------------------------------
  function summary(v) {
    if (v === null || v === undefined) return "";
    if (typeof v !== "object") return String(v);
    return Object.keys(v).map(function (k) {
      var x = v[k];
      if (x && typeof x === "object" && !Array.isArray(x) && (x.ar || x.fr || x.en)) x = name(x);
      else if (x && typeof x === "object") x = JSON.stringify(x);
      return (S["field_" + k] || k) + ": " + x;
    }).join("; ");
  }
  // --- a site that works offline: its sync with the centre (README "Sites that work offline") --
  function renderSync(st) {
    $("sync-centre").textContent = st.centre;
    $("sync-last").textContent = st.last_sync_at ? when(st.last_sync_at) : S.sync_never;
    $("sync-pending").textContent = S.sync_events.replace("{n}", st.pending_events);
    $("sync-error").textContent = st.last_error || S.sync_none;
  }
  function loadSync() {
    return api("GET", "/site/status").then(function (res) {
      if (!res.ok || !res.body.site) return;
      $("sync-tab").hidden = false;
      renderSync(res.body);
    });
  }
  $("sync-now").addEventListener("click", function () {
    var button = $("sync-now");
    button.disabled = true;
    message(S.sync_running, "info");
    api("POST", "/site/sync").then(function (res) {
      if (res.ok) {
        var r = res.body.result;
        message(S.sync_done.replace("{sent}", r.sent.events)
                 .replace("{decisions}", r.received.decisions), "info");
        var warn = (r.warnings || []).map(function (w) { return w.message; }).join(" ");
        if (warn) message(warn);
        renderSync(res.body.status);
      } else {
        message(res.body.error ? res.body.error.message : String(res.status));
        loadSync();
      }
    }).catch(function (e) { if (e.message !== "401") message(e.message); })
      .then(function () { button.disabled = false; });
  });

  function loadHistory() {
    api("GET", "/admin/history?limit=100").then(function (res) {
      if (!res.ok) return;
      $("history").tBodies[0].innerHTML = res.body.history.map(function (h) {
        var d = h.data || {};
        var what = (S["event_" + h.type] || h.type) + (d.prefix ? " " + d.prefix : "") +
          (d.counter_number ? " " + d.counter_number : "") + (d.what ? " (" + (S["what_" + d.what] || d.what) + ")" : "") +
          (d.username ? " " + d.username : "") + (d.name ? " " + d.name : "") + (d.device_name ? " " + d.device_name : "");
        return '<tr><td><bdi dir="ltr">' + esc(when(h.at)) + '</bdi></td><td dir="auto">' + esc(h.actor) + "</td><td>" + esc(what) +
          '</td><td class="json" dir="auto">' + esc(summary(d.before)) + '</td><td class="json" dir="auto">' + esc(summary(d.after)) + "</td></tr>";
      }).join("");
    });
  }

  // --- one listener for the buttons in the lists ----------------------------------------------------
  document.addEventListener("click", function (e) {
    var t = e.target, b;
    if ((b = t.closest("[data-save-service]"))) { saveService(b.dataset.saveService); return; }
    if ((b = t.closest("[data-revoke]"))) {
      if (!confirm(S.confirm_revoke)) return;
      change("POST", "/devices/" + b.dataset.revoke + "/revoke", {}, loadDevices); return;
    }
    if ((b = t.closest("[data-disable]"))) { change("POST", "/admin/users/" + b.dataset.disable + "/disable", {}, loadUsers); return; }
    if ((b = t.closest("[data-end-session]"))) { change("POST", "/admin/sessions/" + b.dataset.endSession + "/revoke", {}, loadSessions); return; }
    if ((b = t.closest("[data-enable]"))) { change("POST", "/admin/users/" + b.dataset.enable + "/enable", {}, loadUsers); return; }
    if ((b = t.closest("[data-password]"))) {
      var pw = prompt(S.ask_password);
      if (pw) change("POST", "/admin/users/" + b.dataset.password + "/password", { password: pw });
      return;
    }
    if ((b = t.closest("[data-remove-zone]"))) {
      var zones = readZones(); zones.splice(parseInt(b.dataset.removeZone, 10), 1);
      data.zones = zones; renderZones(); return;
    }
    if ((b = t.closest("[data-remove-special]"))) { b.closest("tr").remove(); return; }
    var card = t.closest(".counter-edit");
    if (!card) return;
    var list = counterServices(card);
    if ((b = t.closest("[data-move]"))) {
      var p = b.closest("li").dataset.prefix, i = list.indexOf(p), j = i + parseInt(b.dataset.move, 10);
      list.splice(i, 1); list.splice(j, 0, p); setCounterServices(card, list); return;
    }
    if ((b = t.closest("[data-remove]"))) {
      list.splice(list.indexOf(b.closest("li").dataset.prefix), 1); setCounterServices(card, list); return;
    }
    if ((b = t.closest("[data-save-counter]"))) {
      change("PUT", "/admin/counters/" + card.dataset.number, {
        services: list, name: card.querySelector('[data-f="name"]').value.trim() || null });
    }
  });
  document.addEventListener("change", function (e) {
    var sel = e.target.closest('.counter-edit [data-f="add"]');
    if (!sel || !sel.value) return;
    var card = sel.closest(".counter-edit");
    setCounterServices(card, counterServices(card).concat([sel.value]));
  });

  staff.start();
})(window);
