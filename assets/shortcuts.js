// The case page's keyboard shortcuts (issue 22): a approve, r reject, n next case, ? help.
// Each only clicks (or focuses) a visible button of the page, so the server decides as for
// a click; never while typing in a field, with a modifier held, or with a dialog open.
(function () {
  var KEYS = { a: 'case-approve', r: 'case-reject', n: 'case-next', '?': 'case-shortcuts-toggle' };

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || target.isContentEditable;
  }

  function usable(button) {
    return button && !button.disabled && button.offsetParent !== null;
  }

  document.addEventListener('keydown', function (event) {
    if (!document.getElementById('case-shortcuts')) { return; }  // the case page only
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) { return; }
    if (typing(event.target) || document.querySelector('.modal.show')) { return; }
    var id = KEYS[event.key];
    if (!id) { return; }
    if (id === 'case-shortcuts-toggle') {
      var help = document.getElementById('case-shortcuts');
      help.open = !help.open;
      event.preventDefault();
      return;
    }
    // Refusing needs a reason: without one, r takes her to the reason's list.
    var reason = document.getElementById('case-reason');
    if (id === 'case-reject' && reason && !reason.value && usable(reason)) {
      reason.focus();
      event.preventDefault();
      return;
    }
    var button = document.getElementById(id);
    if (usable(button)) {
      event.preventDefault();
      button.click();
    }
  });

  // Announced to screen readers on the buttons themselves (Dash's Button cannot set it).
  function announce() {
    Object.keys(KEYS).forEach(function (key) {
      var button = document.getElementById(KEYS[key]);
      if (button && button.getAttribute('aria-keyshortcuts') !== key) {
        button.setAttribute('aria-keyshortcuts', key === '?' ? 'Shift+?' : key);
      }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; announce(); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
