// Following a job's progress (static/annotate/poller.js) against scripted answers: a
// fetch that answers from a list, and a wait that records its delays instead of sleeping.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ProgressError, fetchProgress, jobFinished, pollProgress, retryDelay } from "../../static/annotate/poller.js";

const reply = (status, body) => ({
  status,
  json: async () => (typeof body === "string" ? JSON.parse(body) : body),
});
const offline = () => {
  throw new TypeError("Failed to fetch");
};

function scripted(answers) {
  const requests = [];
  const fetchImpl = async (url, options) => {
    requests.push({ url, options });
    const next = answers.shift();
    if (next === undefined) throw new Error("no more answers scripted");
    return typeof next === "function" ? next() : next;
  };
  return { fetchImpl, requests };
}

function follow(answers, options = {}) {
  const { fetchImpl, requests } = scripted(answers);
  const delays = [];
  const events = [];
  const poll = pollProgress({
    url: "/jobs/1.json",
    fetchImpl,
    wait: async (ms) => delays.push(ms),
    onProgress: (job) => events.push(["progress", job.status, job.done]),
    onError: (message, retryIn) => events.push(["error", message, retryIn]),
    onFinished: (job) => events.push(["finished", job.status]),
    ...options,
  });
  return { poll, delays, events, requests };
}

describe("when a job has ended", () => {
  test("done, failed and cancelled have ended; queued and running have not", () => {
    for (const status of ["done", "failed", "cancelled"]) assert.equal(jobFinished({ status }), true);
    for (const status of ["queued", "running"]) assert.equal(jobFinished({ status }), false);
    assert.equal(jobFinished({ status: "running", finished: true }), true);
  });
});

describe("retry delays", () => {
  test("double from the interval up to the ceiling", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, 1000, 30000)),
      [2000, 4000, 8000, 16000, 30000, 30000],
    );
  });
});

describe("one answer", () => {
  test("a 200 with a status is the job", async () => {
    const { fetchImpl, requests } = scripted([reply(200, { status: "running", done: 1, total: 4 })]);
    assert.deepEqual(await fetchProgress("/p.json", fetchImpl), { status: "running", done: 1, total: 4 });
    assert.equal(requests[0].options.credentials, "same-origin");
  });

  const failures = [
    ["no network", offline, /could not be reached/],
    ["a server error", reply(500, {}), /answered 500/],
    ["a redirect to the login page", reply(302, {}), /answered 302/],
    ["a body that is not JSON", reply(200, "<html>"), /not readable/],
    ["JSON without a status", reply(200, { done: 1 }), /no status/],
  ];
  for (const [what, answer, message] of failures) {
    test(`${what} is a ProgressError saying so`, async () => {
      const { fetchImpl } = scripted([answer]);
      await assert.rejects(fetchProgress("/p.json", fetchImpl), (error) => {
        assert.ok(error instanceof ProgressError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe("polling", () => {
  test("follows the job at the interval until it is done", async () => {
    const { poll, delays, events, requests } = follow([
      reply(200, { status: "queued", done: 0, total: 3 }),
      reply(200, { status: "running", done: 2, total: 3 }),
      reply(200, { status: "done", done: 3, total: 3 }),
    ]);
    assert.equal(await poll.done, "finished");
    assert.deepEqual(events, [
      ["progress", "queued", 0],
      ["progress", "running", 2],
      ["progress", "done", 3],
      ["finished", "done"],
    ]);
    assert.deepEqual(delays, [1000, 1000, 1000]); // the first wait, then one per unfinished answer
    assert.equal(requests.length, 3);
    assert.ok(requests.every((r) => r.url === "/jobs/1.json"));
  });

  test("a failed job ends the polling too", async () => {
    const { poll, events } = follow([reply(200, { status: "failed", done: 1, total: 3 })]);
    assert.equal(await poll.done, "finished");
    assert.deepEqual(events.at(-1), ["finished", "failed"]);
  });

  test("errors are reported, backed off, and forgotten after a good answer", async () => {
    const { poll, delays, events } = follow([
      offline,
      reply(503, {}),
      reply(200, "not json"),
      reply(200, { status: "running", done: 1, total: 2 }),
      offline,
      reply(200, { status: "done", done: 2, total: 2 }),
    ]);
    assert.equal(await poll.done, "finished");
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 1000, 2000]);
    assert.deepEqual(
      events.map(([kind, , retryIn]) => (kind === "error" ? retryIn : kind)),
      [2000, 4000, 8000, "progress", 2000, "progress", "finished"],
    );
    assert.match(events[1][1], /answered 503/);
  });

  test("gives up after too many failures in a row, and says so", async () => {
    const { poll, events, requests } = follow([offline, offline, offline], { maxFailures: 3 });
    assert.equal(await poll.done, "gave-up");
    assert.equal(requests.length, 3);
    assert.deepEqual(events.at(-1), ["error", "the server could not be reached", null]);
  });

  test("a caller's own rule can end it, for instance a status that changed", async () => {
    const { poll, events } = follow(
      [reply(200, { status: "queued", done: 0, total: 2 }), reply(200, { status: "running", done: 0, total: 2 })],
      { stopWhen: (job) => job.status !== "queued" },
    );
    assert.equal(await poll.done, "finished");
    assert.deepEqual(events.at(-1), ["finished", "running"]);
  });

  test("stop() ends it before the next request", async () => {
    const { fetchImpl, requests } = scripted([reply(200, { status: "running", done: 0, total: 2 })]);
    const poll = pollProgress({
      url: "/jobs/1.json",
      fetchImpl,
      wait: async () => {
        if (requests.length === 1) poll.stop();
      },
    });
    assert.equal(await poll.done, "stopped");
    assert.equal(requests.length, 1);
  });
});
