// A page whose session ended (idle, logout elsewhere, a revoked wall) goes to the login page
// instead of failing every callback: the server answers a Dash callback 401 then.
(function () {
  const fetch0 = window.fetch;
  let leaving = false;
  function leave(login) {
    if (leaving) return;
    leaving = true;
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    login = login || '/login';
    window.location.assign(login + (login.indexOf('?') === -1 ? '?' : '&') + 'next=' + next);
  }
  // push.js: the server ended the screen's stream because its login was revoked
  window.sitroomAccess = {leave: leave};
  window.fetch = function (input, init) {
    return fetch0.apply(this, arguments).then(function (resp) {
      const url = typeof input === 'string' ? input : (input && input.url) || '';
      if (resp.status === 401 && !leaving && url.indexOf('/_dash-') !== -1) {
        resp.clone().json().catch(function () { return {}; }).then(function (body) {
          leave(body && body.login);
        });
        return new Promise(function () {});  // the page is leaving: no error for the renderer to log
      }
      return resp;
    });
  };
})();
