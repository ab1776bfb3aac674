// serde console: the console's own small script (no third-party code).
"use strict";
(function () {
  const token = document.querySelector('meta[name="csrf-token"]');

  // an uploaded draft fills the textarea it names; the check still runs on the server
  document.querySelectorAll('input[type="file"][data-target]').forEach(function (input) {
    input.addEventListener("change", function () {
      const file = input.files && input.files[0];
      if (!file) return;
      if (file.size > 1024 * 1024) { alert("the file is over 1 MiB"); return; }
      file.text().then(function (text) { document.getElementById(input.dataset.target).value = text; });
    });
  });

  // validation of the record as it is typed, on the server
  const form = document.getElementById("produce-form");
  if (form) {
    const out = document.getElementById("validation");
    let timer = null, seq = 0;
    const run = function () {
      const mine = ++seq;
      const body = new URLSearchParams(new FormData(form));
      fetch(form.dataset.validate, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": token ? token.content : "", "Accept": "application/json" }
      }).then(function (r) { return r.json(); }).then(function (answer) {
        if (mine !== seq) return;
        out.textContent = answer.ok ? "✓ valid for the schema" : (answer.errors || [answer.error]).join("; ");
        out.className = answer.ok ? "ok" : "bad";
      }).catch(function () { out.textContent = ""; });
    };
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 300); });
    run();
  }

  // the subject picker of the produce page loads the subject at once
  const choice = document.getElementById("subject-choice");
  if (choice) choice.addEventListener("change", function () { document.getElementById("choose").submit(); });
})();
