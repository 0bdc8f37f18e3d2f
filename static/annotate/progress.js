/* Progress of the jobs a page shows (imports, judge runs): every element with a
 * data-progress-url and a data-status of queued or running is followed; its <progress>,
 * its .status and its .counts follow the job. Once a job's status is no longer the one
 * the page was drawn for, the page is loaded again to show what it has become.
 */
import { format, gettext } from "./i18n.js";
import { ACTIVE_STATUSES, jobFinished, pollProgress, statusWord } from "./poller.js";

function follow(el) {
  const status = el.querySelector(".status");
  const counts = el.querySelector(".counts");
  const bar = el.querySelector("progress");
  let note = null;
  const say = (text) => {
    if (!note) {
      note = document.createElement("span");
      note.className = "progress-error error";
      note.setAttribute("role", "status");
      (status || el).after(note);
    }
    note.textContent = text;
    note.hidden = !text;
  };
  return pollProgress({
    url: el.dataset.progressUrl,
    stopWhen: (job) => jobFinished(job) || job.status !== el.dataset.status,
    onProgress(job) {
      say("");
      if (bar) {
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
      }
      if (counts) counts.textContent = `${job.done}/${job.total}`;
      // Without a place for the counts, the status says them.
      const word = statusWord(job.status);
      if (status) status.textContent = counts ? word : `${word} ${job.done}/${job.total}`;
    },
    onError(message, retryIn) {
      const text =
        retryIn === null
          ? gettext("Progress unavailable: %(message)s. Reload the page to follow it again.")
          : gettext("Progress unavailable: %(message)s; trying again in %(seconds)s s.");
      say(` ${format(text, { message, seconds: Math.round((retryIn ?? 0) / 1000) })}`);
    },
    onFinished: () => window.location.reload(),
  });
}

const followed = [...document.querySelectorAll("[data-progress-url]")].filter((el) => ACTIVE_STATUSES.has(el.dataset.status));
for (const el of followed) follow(el);
