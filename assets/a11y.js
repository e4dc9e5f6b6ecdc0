// Tie help and error texts to their inputs (aria-describedby / aria-invalid), which Dash's
// input components cannot set themselves, and move focus to the first field in error.
(function () {
  function tie(root) {
    root.querySelectorAll('[data-input]').forEach(function (wrapper) {
      var input = document.getElementById(wrapper.getAttribute('data-input'));
      if (!input) { return; }
      input.setAttribute('aria-describedby', wrapper.getAttribute('data-describedby'));
      var error = document.getElementById(input.id + '-error');
      var invalid = !!(error && error.textContent.trim());
      if (invalid) { input.setAttribute('aria-invalid', 'true'); }
      else { input.removeAttribute('aria-invalid'); }
      if (invalid && error.getAttribute('data-focused') !== error.textContent) {
        error.setAttribute('data-focused', error.textContent);
        input.focus();
      }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; tie(document); });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
