// The secretary's steps (issue 22). Dash changes pages in the browser, where nothing moves
// the view or the focus: on a phone the next step opened where the last button was, with
// the focus on <body>. Each step now opens at the top, its heading focused (tabindex="-1"
// in the layout), so that a screen reader starts with it and Tab goes on from there.
// Never over an error: assets/a11y.js moves the focus to the first field in error, and a
// focus already on a control (typed, clicked) stays where it is.
//
// Also: a step restored from the back-forward cache is loaded again (the server then says
// where she is: the result, once decided), and the drafts kept for a language switch (the
// CGU tick, the typed matricule: dcc.Store in sessionStorage, never localStorage) go as
// soon as the page that holds them is gone.
(function () {
  var DRAFTS = { 'cgu-draft': 'cgu-accepted', 'matricule-draft': 'matricule-input' };

  function onStep() {
    var path = window.location.pathname;
    return path === '/enrolment' || path.indexOf('/enrolment/') === 0;
  }

  if (onStep() && 'scrollRestoration' in window.history) {
    // The browser's own restoring (a reload, the language switch) would scroll back down.
    window.history.scrollRestoration = 'manual';
  }

  // Dash's clientside callbacks (dashboard/callbacks/enrolment.py): keep what she ticked or
  // typed across a reload; forget it once she submits.
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    secretary: {
      keep_draft: function (value, draft) {
        var noUpdate = window.dash_clientside.no_update;
        var context = window.dash_clientside.callback_context;
        var triggered = ((context && context.triggered) || []).map(function (t) {
          return t.prop_id;
        });
        var submitted = triggered.some(function (id) {
          return /\.(n_clicks|n_submit)$/.test(id);
        });
        if (submitted) { return [noUpdate, null]; }
        var typed = triggered.some(function (id) { return /\.value$/.test(id); });
        if (typed) { return [noUpdate, value ? value : null]; }
        // The page was just drawn (or the stored draft just read): put the draft back.
        if (draft && !value) { return [draft, noUpdate]; }
        return [noUpdate, noUpdate];
      }
    }
  });

  function fieldInError(page) {
    var summary = document.getElementById('error-summary');
    if (summary && !summary.hidden) { return true; }
    var errors = page.querySelectorAll('.field-error');
    for (var i = 0; i < errors.length; i++) {
      if (errors[i].textContent.trim()) { return true; }
    }
    return false;
  }

  function focusIsFree() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement;
  }

  function forgetDrafts() {
    Object.keys(DRAFTS).forEach(function (key) {
      if (document.getElementById(DRAFTS[key])) { return; }
      try {
        window.sessionStorage.removeItem(key);
        window.sessionStorage.removeItem(key + '-timestamp');
      } catch (e) { /* storage refused: nothing was kept either */ }
    });
  }

  var handled = null;  // the heading already opened
  function open() {
    if (!onStep()) { return; }
    var heading = document.querySelector('.secretary-page #page-heading');
    if (!heading || heading === handled) { return; }
    handled = heading;
    forgetDrafts();
    var page = heading.closest('.secretary-page') || document;
    if (fieldInError(page) || !focusIsFree()) { return; }
    window.scrollTo(0, 0);
    heading.focus({ preventScroll: true });
  }

  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; open(); });
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.addEventListener('pageshow', function (event) {
    // From the back-forward cache: the step as it was, perhaps long decided. Ask again.
    if (event.persisted && onStep()) { window.location.reload(); }
  });
})();
