(function () {
  "use strict";
  var partner = document.getElementById("filter-partner");
  var status = document.getElementById("filter-status");
  var pages = document.querySelectorAll("section.page");
  function apply() {
    var shown = 0;
    for (var i = 0; i < pages.length; i++) {
      var page = pages[i];
      var ok = (!partner.value || page.getAttribute("data-partner") === partner.value) &&
               (!status.value || page.getAttribute("data-status") === status.value);
      page.hidden = !ok;
      if (ok) { shown++; }
    }
    document.getElementById("shown").textContent = String(shown);
  }
  partner.addEventListener("change", apply);
  status.addEventListener("change", apply);
  apply();
  document.body.setAttribute("data-ready", "1");
}());
