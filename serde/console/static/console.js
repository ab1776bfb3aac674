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

  // a consumer group's lag over time, sampled while the page is open (an SVG polyline)
  const chart = document.getElementById("lag-chart");
  if (chart) {
    const line = chart.querySelector("polyline"), label = document.getElementById("lag-max");
    const total = document.getElementById("total-lag");
    const samples = [];
    const draw = function () {
      const max = Math.max(1, Math.max.apply(null, samples));
      const step = samples.length > 1 ? 600 / (samples.length - 1) : 0;
      line.setAttribute("points", samples.map(function (v, i) {
        return (i * step).toFixed(1) + "," + (134 - (v / max) * 114).toFixed(1);
      }).join(" "));
      label.textContent = "max " + max + " · now " + samples[samples.length - 1];
    };
    const sample = function () {
      fetch(chart.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); }).then(function (answer) {
          if (typeof answer.lag !== "number") return;
          samples.push(answer.lag);
          if (samples.length > 150) samples.shift();
          if (total) total.textContent = answer.lag;
          chart.dataset.samples = String(samples.length);
          (answer.partitions || []).forEach(function (p) {
            const row = document.getElementById("p-" + p.topic + "-" + p.partition);
            if (row) row.querySelector("td.lag").textContent = p.lag === null ? "" : p.lag;
          });
          draw();
        }).catch(function () {});
    };
    sample();
    setInterval(sample, 2000);
  }

  // the subject picker of the produce page loads the subject at once
  const choice = document.getElementById("subject-choice");
  if (choice) choice.addEventListener("change", function () { document.getElementById("choose").submit(); });
})();
