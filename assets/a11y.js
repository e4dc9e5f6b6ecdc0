// Tie help and error texts to their inputs (aria-describedby / aria-invalid), which Dash's
// input components cannot set themselves, and move focus to the first field in error.
(function () {
  // The summary at the top of the page lists the field errors, each linking to its field.
  function summarise(root) {
    var summary = root.getElementById('error-summary');
    if (!summary) { return; }
    var items = [];
    root.querySelectorAll('[data-input]').forEach(function (wrapper) {
      var id = wrapper.getAttribute('data-input');
      var error = root.getElementById(id + '-error');
      var text = error ? error.textContent.trim() : '';
      if (text) { items.push({ id: id, text: text }); }
    });
    var key = JSON.stringify(items);
    if (summary.getAttribute('data-shown') === key) { return; }
    summary.setAttribute('data-shown', key);
    summary.textContent = '';
    summary.hidden = items.length === 0;
    if (!items.length) { return; }
    var title = document.createElement('p');
    title.className = 'error-summary-title';
    title.textContent = summary.getAttribute('data-title');
    var list = document.createElement('ul');
    items.forEach(function (item) {
      var link = document.createElement('a');
      link.href = '#' + item.id;
      link.textContent = item.text;
      link.addEventListener('click', function (event) {
        event.preventDefault();
        var input = document.getElementById(item.id);
        if (input) { input.focus(); }
      });
      var li = document.createElement('li');
      li.appendChild(link);
      list.appendChild(li);
    });
    summary.appendChild(title);
    summary.appendChild(list);
  }
  function tie(root) {
    var focused = false;  // focus goes to the first field in error, not the last
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
        if (!focused) { input.focus(); focused = true; }
      }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; tie(document); summarise(document); });
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
})();
