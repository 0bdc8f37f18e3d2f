/* Following a job on the server (an import, an upload check, a judge run) through its
 * progress URL until it ends.
 *
 * A failed request (no network, an answer other than 200, a body that is not JSON) is
 * reported and retried after a delay that doubles up to a ceiling; a success resets it.
 * Polling stops when the job has ended, after too many failures in a row, or on stop().
 * fetch and the timer are passed in, so Node's test runner drives it without a browser.
 */
import { format, gettext, pgettext } from "./i18n.js";

export const ACTIVE_STATUSES = new Set(["queued", "running"]);
export const FINISHED_STATUSES = new Set(["done", "failed", "cancelled"]);

/** A job's status as the reader says it (the server's word otherwise): the same words
 * as the pages' own (annotate/words.py). */
export function statusWord(status) {
  const words = {
    queued: pgettext("status", "queued"),
    running: pgettext("status", "running"),
    done: pgettext("status", "done"),
    failed: pgettext("status", "failed"),
    cancelled: pgettext("status", "cancelled"),
  };
  return words[status] ?? status;
}

/** Whether a progress answer says the job has ended. */
export function jobFinished(job) {
  return job.finished === true || FINISHED_STATUSES.has(job.status);
}

/** The wait before the next request after `failures` failures in a row. */
export function retryDelay(failures, interval, maxDelay) {
  return Math.min(maxDelay, interval * 2 ** failures);
}

export class ProgressError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProgressError";
  }
}

/** One progress answer; any way it can fail becomes a ProgressError saying how. */
export async function fetchProgress(url, fetchImpl) {
  let response;
  try {
    response = await fetchImpl(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    throw new ProgressError(gettext("the server could not be reached"));
  }
  if (response.status !== 200) {
    throw new ProgressError(format(gettext("the server answered %(status)s"), { status: response.status }));
  }
  let job;
  try {
    job = await response.json();
  } catch {
    throw new ProgressError(gettext("the server's answer was not readable"));
  }
  if (job === null || typeof job !== "object" || typeof job.status !== "string") {
    throw new ProgressError(gettext("the server's answer had no status"));
  }
  return job;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `url` every `interval` ms (the first time after `firstDelay`). Calls
 * onProgress(job) for each answer, onError(message, retryInMs | null) for each failure
 * (null: given up), and onFinished(job) on the answer that ends it. Returns
 * {stop, done}: done resolves to "finished", "gave-up" or "stopped". `stopWhen(job)`
 * says which answer ends the polling (by default: the job has ended).
 */
export function pollProgress({
  url,
  onProgress = () => {},
  onError = () => {},
  onFinished = () => {},
  stopWhen = jobFinished,
  interval = 1000,
  firstDelay = interval,
  maxDelay = 30000,
  maxFailures = 8,
  fetchImpl = (...args) => globalThis.fetch(...args),
  wait = sleep,
}) {
  let stopped = false;
  const run = async () => {
    let failures = 0;
    await wait(firstDelay);
    while (!stopped) {
      let job;
      try {
        job = await fetchProgress(url, fetchImpl);
      } catch (error) {
        if (stopped) break;
        failures += 1;
        const message = error instanceof ProgressError ? error.message : String(error);
        if (failures >= maxFailures) {
          onError(message, null);
          return "gave-up";
        }
        const delay = retryDelay(failures, interval, maxDelay);
        onError(message, delay);
        await wait(delay);
        continue;
      }
      if (stopped) break;
      failures = 0;
      onProgress(job);
      if (stopWhen(job)) {
        onFinished(job);
        return "finished";
      }
      await wait(interval);
    }
    return "stopped";
  };
  const done = run();
  return {
    stop() {
      stopped = true;
    },
    done,
  };
}
