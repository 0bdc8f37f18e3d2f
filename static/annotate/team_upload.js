// Sends the team's archive with a progress bar, follows the import on the server, then
// shows the page again with the upload's per-file report.
(function () {
  // An upload still being checked when the page was opened: reload once it has ended.
  const shown = document.getElementById("upload-report");
  if (shown && (shown.dataset.status === "queued" || shown.dataset.status === "running")) {
    const url = `${window.location.pathname}uploads/${shown.dataset.upload}.json`;
    const poll = async () => {
      const job = await (await fetch(url)).json();
      if (job.status === "done" || job.status === "failed") window.location.reload();
      else setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
  }

  const form = document.getElementById("team-upload-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const maxBytes = Number(form.dataset.maxBytes);

  function follow(job) {
    const url = form.action.replace(/upload$/, `uploads/${job.id}.json`);
    status.textContent = `Checking files: ${job.done} of ${job.total}`;
    if (job.status === "done" || job.status === "failed") {
      window.location.assign(form.action.replace(/upload$/, `?upload=${job.id}`));
      return;
    }
    setTimeout(async () => follow(await (await fetch(url)).json()), 1000);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    if (file.size > maxBytes) {
      status.textContent = `This file has ${file.size} bytes; at most ${maxBytes} are accepted.`;
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total;
      status.textContent = `Uploading: ${Math.round(bar.value)}%`;
    });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (_) { /* not JSON */ }
      if (request.status === 202) follow(body);
      else status.textContent = body.detail || `The upload was refused (HTTP ${request.status}).`;
    });
    request.addEventListener("error", () => { status.textContent = "The upload failed: the connection broke. Try again."; });
    request.send(new FormData(form));
  });
})();
