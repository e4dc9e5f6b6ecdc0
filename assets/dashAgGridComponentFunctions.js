// Cell renderers for dash-ag-grid (looked up by name in columnDefs' cellRenderer). A static
// asset, so the Content-Security-Policy's script-src 'self' allows it; no eval.
var dagcomponentfuncs = (window.dashAgGridComponentFunctions =
  window.dashAgGridComponentFunctions || {});

// The queue's differences: [{text, detail, title, tone}] as short Bootstrap badges; the
// whole description is the title (mouse) and, hidden, part of the text (screen readers).
dagcomponentfuncs.DifferenceBadges = function (props) {
  var items = Array.isArray(props.value) ? props.value : [];
  return React.createElement(
    "span",
    { className: "d-inline-flex flex-wrap gap-1 align-items-center" },
    items.map(function (item, i) {
      var tone = ["warning", "info", "primary", "danger"].indexOf(item.tone) >= 0
        ? item.tone : "secondary";
      return React.createElement(
        "span",
        { key: i, className: "badge rounded-pill text-bg-" + tone, title: String(item.title || "") },
        String(item.text || ""),
        // Read by screen readers, not shown: what differs about the field.
        React.createElement("span", { className: "visually-hidden" }, String(item.detail || ""))
      );
    })
  );
};
