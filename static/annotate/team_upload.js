/* Sends the team's archive with a progress bar, follows the import on the server, then
 * shows the page again with the upload's per-file report.
 */
import { format, gettext } from "./i18n.js";
import { ACTIVE_STATUSES, pollProgress } from "./poller.js";

const status = document.getElementById("upload-status");
const say = (text) => {
  if (status) status.textContent = text;
};
const trouble = (message, retryIn) =>
  format(
    retryIn === null
      ? gettext("Progress unavailable: %(message)s. Reload the page to see how the check went.")
      : gettext("Progress unavailable: %(message)s; trying again in %(seconds)s s."),
    { message, seconds: Math.round((retryIn ?? 0) / 1000) },
  );

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
    const checking = (each) => say(format(gettext("Checking files: %(done)s of %(total)s"), each));
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
      say(format(gettext("This file has %(size)s bytes; at most %(max)s are accepted."), { size: file.size, max: maxBytes }));
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total;
      say(format(gettext("Uploading: %(percent)s%"), { percent: Math.round(bar.value) }));
    });
    request.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        /* not JSON: the status says what happened */
      }
      if (request.status === 202) follow(body);
      else say(body.detail || format(gettext("The upload was refused (HTTP %(status)s)."), { status: request.status }));
    });
    request.addEventListener("error", () => say(gettext("The upload failed: the connection broke. Try again.")));
    request.send(new FormData(form));
  });
}
