/* Sends the team's archive with a progress bar, follows the import on the server, then
 * shows the page again with the upload's per-file report.
 */
import { ACTIVE_STATUSES, pollProgress } from "./poller.js";

const status = document.getElementById("upload-status");
const say = (text) => {
  if (status) status.textContent = text;
};
const trouble = (message, retryIn) =>
  retryIn === null
    ? `Progress unavailable: ${message}. Reload the page to see how the check went.`
    : `Progress unavailable: ${message}; trying again in ${Math.round(retryIn / 1000)} s.`;

// An upload still being checked when the page was opened: reload once it has ended.
const shown = document.getElementById("upload-report");
if (shown && ACTIVE_STATUSES.has(shown.dataset.status)) {
  pollProgress({
    url: `${window.location.pathname}uploads/${shown.dataset.upload}.json`,
    onProgress: () => say(""),
    onError: (message, retryIn) => say(trouble(message, retryIn)),
    onFinished: () => window.location.reload(),
  });
}

const form = document.getElementById("team-upload-form");
if (form) {
  const bar = document.getElementById("upload-progress");
  const maxBytes = Number(form.dataset.maxBytes);

  const follow = (job) => {
    const report = form.action.replace(/upload$/, `?upload=${job.id}`);
    const checking = (each) => say(`Checking files: ${each.done} of ${each.total}`);
    checking(job);
    if (!ACTIVE_STATUSES.has(job.status)) return window.location.assign(report);
    pollProgress({
      url: form.action.replace(/upload$/, `uploads/${job.id}.json`),
      onProgress: checking,
      onError: (message, retryIn) => say(trouble(message, retryIn)),
      onFinished: () => window.location.assign(report),
    });
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    if (file.size > maxBytes) {
      say(`This file has ${file.size} bytes; at most ${maxBytes} are accepted.`);
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total;
      say(`Uploading: ${Math.round(bar.value)}%`);
    });
    request.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        /* not JSON: the status says what happened */
      }
      if (request.status === 202) follow(body);
      else say(body.detail || `The upload was refused (HTTP ${request.status}).`);
    });
    request.addEventListener("error", () => say("The upload failed: the connection broke. Try again."));
    request.send(new FormData(form));
  });
}
