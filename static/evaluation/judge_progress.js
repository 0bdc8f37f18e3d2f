// Follows unfinished judge runs (elements .judge-run with data-progress-url), then reloads.
(function () {
  const unfinished = [...document.querySelectorAll(".judge-run")].filter(
    (el) => el.dataset.status === "queued" || el.dataset.status === "running");
  if (!unfinished.length) return;
  async function poll() {
    let changed = false;
    for (const el of unfinished) {
      let run;
      try {
        run = await (await fetch(el.dataset.progressUrl, {credentials: "same-origin"})).json();
      } catch (error) {
        continue;  // a dropped request: try again on the next tick
      }
      const bar = el.querySelector("progress");
      bar.max = Math.max(run.total, 1);
      bar.value = run.done;
      el.querySelector(".status").textContent = run.status;
      const counts = el.querySelector(".counts");
      if (counts) counts.textContent = `${run.done}/${run.total}`;
      if (run.finished || run.status !== el.dataset.status) changed = true;
    }
    if (changed) window.location.reload(); else setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
