// When the server refuses or cannot answer an action (a session expired after 30 idle
// minutes or lost with its CSRF token, an account disabled meanwhile, the service down),
// Dash's renderer shows nothing outside debug mode and the click seems to do nothing:
// say so, in the page's language (the texts come with the page, see dashboard/app.py).
(function () {
  var nativeFetch = window.fetch;
  if (!nativeFetch) { return; }

  function show(kind) {
    var box = document.getElementById('request-refused');
    if (!box) { return; }
    var text = box.getAttribute('data-' + kind);
    if (box.textContent !== text) { box.textContent = text; }
    box.hidden = false;
  }

  window.fetch = function (input) {
    var url = typeof input === 'string' ? input : (input && input.url) || '';
    return nativeFetch.apply(this, arguments).then(function (response) {
      if (url.indexOf('_dash-update-component') !== -1) {
        if (response.status === 400 || response.status === 401 || response.status === 403) {
          show('refused');
        } else if (response.status === 429 || response.status >= 500) {
          show('unavailable');
        }
      }
      return response;
    });
  };
})();
