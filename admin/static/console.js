// The console's only script (no inline script: the CSP allows this file alone).
// - A button with data-confirm asks before its form acts (終える, 管理者から外す, ...).
// - A page with a data-live element refreshes the regions that have an id and aria-live
//   every so many seconds, in place: the reader keeps their scroll, their focus and what
//   they were typing, where a reload would lose all three.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  var live = document.querySelector("[data-live]");
  if (!live) return;
  var seconds = Math.max(5, Number(live.dataset.live) || 15);

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[aria-live][id], [data-live-part][id]").forEach(function (part) {
          var update = fresh.getElementById(part.id);
          if (update && update.innerHTML !== part.innerHTML) part.innerHTML = update.innerHTML;
        });
        if (fresh.querySelector("[data-live]")) window.setTimeout(refresh, seconds * 1000);
      })
      .catch(function () { window.setTimeout(refresh, seconds * 1000); });
  }
  window.setTimeout(refresh, seconds * 1000);
})();
