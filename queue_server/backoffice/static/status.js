// The visitor's phone: one dossier followed live by its tracking number (no token).
(function (global) {
  "use strict";
  var D = JSON.parse(document.getElementById("dossier-data").textContent), lang = D.lang;
  function $(id) { return document.getElementById(id); }
  function name(names) { return names[lang] || (lang === "zgh" ? names.ar : null) || names.fr || names.en || ""; }
  function day(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : "–"; }

  function render(d) {
    var t = D.texts[d.status] || [d.status, ""];
    $("status").textContent = t[0];
    $("next").textContent = t[1];
    $("type").textContent = name(d.type_names);
    $("insured").textContent = d.insured;
    $("deposited").textContent = day(d.deposited_at);
    $("updated").textContent = day(d.updated_at);
    var ul = $("missing");
    ul.textContent = "";
    (d.missing || []).forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = name(m.names);
      li.dataset.code = m.code;
      ul.appendChild(li);
    });
    $("missing-box").hidden = !(d.missing && d.missing.length);
    // a code, in the visitor's words from the catalogs (never staff's free text)
    var why = d.reason ? (D.reasons[d.reason] || D.reasons.other || "") : "";
    $("reason").hidden = !why;
    $("reason").textContent = why;
    document.body.dataset.status = d.status;
  }

  render(D.dossier);
  var socket = global.io({ transports: ["websocket"],
                           auth: { view: "dossier", dossier: D.dossier.tracking, lang: lang },
                           reconnectionDelayMax: 5000 });
  function state(s) { document.documentElement.dataset.connection = s; }
  socket.on("connect", function () { state("online"); });
  socket.on("disconnect", function () { state("reconnecting"); });
  socket.on("connect_error", function () { state("reconnecting"); });
  socket.on("snapshot", function (snap) { if (snap.dossier) render(snap.dossier); });
  socket.on("dossier_changed", function (msg) { if (msg.dossier) render(msg.dossier); });
})(window);
