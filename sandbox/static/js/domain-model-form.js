// The model registry form: show only the field groups the chosen provider needs.
(function () {
  "use strict";
  var form = document.getElementById("model-form");
  if (!form) { return; }
  var provider = form.querySelector("select[name=provider]");
  function update() {
    form.querySelectorAll("fieldset[data-providers]").forEach(function (group) {
      var wanted = group.getAttribute("data-providers").split(" ");
      group.hidden = wanted.indexOf(provider.value) === -1;
    });
  }
  provider.addEventListener("change", update);
  update();
}());
