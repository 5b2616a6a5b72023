// Optional niceties for the filter form; the dashboard works without them.
// Typing a date chooses the custom range; choosing a preset range clears
// the dates (the server refuses dates with a preset, to be explicit).
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var range = form.elements.namedItem("range");
  var from = form.elements.namedItem("from");
  var to = form.elements.namedItem("to");
  function chooseCustom() {
    if ((from.value || to.value) && range.value !== "custom") range.value = "custom";
  }
  from.addEventListener("change", chooseCustom);
  to.addEventListener("change", chooseCustom);
  range.addEventListener("change", function () {
    if (range.value !== "custom") { from.value = ""; to.value = ""; }
  });
})();
