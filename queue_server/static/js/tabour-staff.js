// Tabour staff pages (the live dashboard, administration): sign in, the page's message line,
// and API calls with the staff token. The token lives in sessionStorage under the console's
// key (one sign-in per tab, gone when the tab closes). The markup is
// dashboard/templates/dashboard/_staff.html: #login-view, #login-form, #username, #password,
// #message, #who, #logout, and the page's own main view.
(function (global) {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var TOKEN = "tabour.console.token", USER = "tabour.console.user";

  // options: {lang, main (the main view's id), strings: {wrong_login, session_expired,
  //           not_staff}, onStart(user), onSignOut()}
  function TabourStaff(options) {
    this.o = options;
    this.token = sessionStorage.getItem(TOKEN);
    this.user = JSON.parse(sessionStorage.getItem(USER) || "null");
    this._msgTimer = null;
    var self = this;
    var params = new URLSearchParams(location.search);
    if (params.get("lang")) document.cookie = "lang=" + params.get("lang") + "; path=/; max-age=31536000";
    $("login-form").addEventListener("submit", function (e) { e.preventDefault(); self._signIn(); });
  // the server revokes the token (and cuts its sockets); the page forgets it either way
  function logoutOnServer(t) {
    if (!t) return;
    fetch("/api/v1/auth/logout", { method: "POST", keepalive: true, body: "{}",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + t } })
      .catch(function () {});
  }
    $("logout").addEventListener("click", function () { logoutOnServer(self.token); self.signOut(); });
  }

  TabourStaff.prototype.message = function (text, kind) {
    var m = $("message");
    m.textContent = text || ""; m.className = "message " + (kind || "error"); m.hidden = !text;
    clearTimeout(this._msgTimer);
    if (text && kind === "info") this._msgTimer = setTimeout(function () { m.hidden = true; }, 5000);
  };

  TabourStaff.prototype.show = function (signedIn) {
    $("login-view").hidden = signedIn;
    $(this.o.main).hidden = !signedIn;
    $("logout").hidden = !signedIn;
    $("who").textContent = signedIn && this.user ? this.user.display_name : "";
  };

  TabourStaff.prototype.start = function () {
    if (!this.token) { this.show(false); $("username").focus(); return; }
    // the server refuses agents anyway (403); saying so here spares them a blank page
    if (this.user && this.user.role === "agent") { this.signOut(this.o.strings.not_staff); return; }
    this.show(true);
    this.o.onStart(this.user);
  };

  TabourStaff.prototype.signOut = function (text) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
    this.token = null; this.user = null;
    if (this.o.onSignOut) this.o.onSignOut();
    this.show(false);
    this.message(text || "");
  };

  TabourStaff.prototype._signIn = function () {
    var self = this;
    fetch("/api/v1/auth/token", {
      method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": this.o.lang },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) {
          self.message((res.body.error && res.body.error.message) || self.o.strings.wrong_login);
          return;
        }
        self.token = res.body.token; self.user = res.body.user;
        sessionStorage.setItem(TOKEN, self.token);
        sessionStorage.setItem(USER, JSON.stringify(self.user));
        self.message("");
        self.start();
      });
  };

  // {status, ok, body}; refusals come back in the page's language. A 401 signs out.
  TabourStaff.prototype.api = function (method, path, body) {
    var self = this;
    return fetch("/api/v1" + path, {
      method: method,
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + this.token,
                 "Accept-Language": this.o.lang },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      if (r.status === 401) { self.signOut(self.o.strings.session_expired); throw new Error("401"); }
      return r.json().then(function (b) { return { status: r.status, ok: r.ok, body: b }; });
    });
  };

  global.TabourStaff = TabourStaff;
})(window);
