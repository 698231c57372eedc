// The camera page's export form: POST the export to the API (the session cookie authenticates
// it, the CSRF cookie is repeated in a header) and link the zip it answers with.
(function () {
  "use strict";
  var form = document.getElementById("export-form");
  if (!form) { return; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var m = document.cookie.match(/(?:^|;\s*)civicam_csrf=([^;]+)/);
    // The pickers hold local time in the city's zone; the API takes RFC 3339.
    var zone = (document.getElementById("export") || {}).dataset ? document.getElementById("export").dataset.zone : "UTC";
    var toISO = function (v) {
      var ms = window.civicamTime ? window.civicamTime.fromInput(v, zone || "UTC") : NaN;
      return isNaN(ms) ? v.trim() : window.civicamTime.iso(ms);
    };
    var body = {
      start: toISO(form.elements.start.value),
      end: toISO(form.elements.end.value),
      purpose: form.elements.purpose.value.trim(),
      case_ref: form.elements.case_ref.value.trim()
    };
    if (form.elements.application_id && form.elements.application_id.value.trim()) {
      body.application_id = form.elements.application_id.value.trim();
    }
    var out = document.getElementById("export-result");
    out.textContent = form.dataset.msgWorking;
    fetch("/api/v1/cameras/" + encodeURIComponent(form.dataset.camera) + "/exports", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": m ? decodeURIComponent(m[1]) : "" },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().then(function (j) { return { ok: res.ok, status: res.status, j: j }; });
    }).then(function (r) {
      out.textContent = "";
      if (r.ok) {
        var a = document.createElement("a");
        a.id = "export-download";
        a.href = r.j.download;
        a.textContent = form.dataset.msgDownload;
        out.appendChild(a);
        return;
      }
      var e = document.createElement("span");
      e.id = "export-error";
      e.className = "error";
      e.textContent = form.dataset.msgFailed + " " + ((r.j.error && r.j.error.message) || r.status);
      out.appendChild(e);
    }).catch(function (err) {
      out.textContent = form.dataset.msgFailed + " " + err;
    });
  });
})();
