// The one script: a copy button for the draft note. Everything else works without it.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.getAttribute("data-copy"));
  var status = button.parentNode.querySelector(".copy-status");
  if (!source) {
    return;
  }
  function copied() {
    status.textContent = button.getAttribute("data-copied");
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    if (navigator.clipboard) {
      navigator.clipboard.writeText(source.value).then(copied);
      return;
    }
    source.select(); // without https the browser offers no clipboard API; the selected text still copies
    if (document.execCommand("copy")) {
      copied();
    }
  });
});
