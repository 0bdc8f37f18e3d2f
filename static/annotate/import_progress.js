// Follows running imports until they finish, then reloads to show the report.
(function () {
  const running = [...document.querySelectorAll(".import[data-progress-url]")].filter(
    (li) => li.dataset.status === "queued" || li.dataset.status === "running");
  if (!running.length) return;
  async function poll() {
    let finished = false;
    for (const li of running) {
      const job = await (await fetch(li.dataset.progressUrl)).json();
      const bar = li.querySelector("progress");
      if (bar) {
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
      }
      li.querySelector(".status").textContent = `${job.status} ${job.done}/${job.total}`;
      if (job.status === "done" || job.status === "failed") finished = true;
    }
    if (finished) window.location.reload(); else setTimeout(poll, 1000);
  }
  poll();
})();
