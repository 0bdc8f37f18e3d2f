/* Pair review: the reference and the generated clip on one clock.
 *
 * The rating page's player (static/annotate/player.js) is bound to the rubric form,
 * so this page carries its own small player with the same rules: the reference is
 * the master clock; by time the generated clip follows second for second (holding
 * its last frame if shorter), by progress it is stretched onto the reference. Drift
 * is corrected by a seek on each animation frame when it exceeds a quarter second.
 */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("pair-config").textContent);
  const ref = document.getElementById("pair-ref");
  const gen = document.getElementById("pair-gen");
  const play = document.getElementById("pair-play");
  const scrub = document.getElementById("pair-scrub");
  const clock = document.getElementById("pair-time");
  const rate = document.getElementById("pair-rate");
  const sync = document.getElementById("pair-sync");
  const DRIFT_JUMP = 0.25;

  const duration = (el, info) => (Number.isFinite(el.duration) && el.duration > 0 ? el.duration : info.duration_s || 0);
  const refDuration = () => duration(ref, config.reference);
  const genDuration = () => duration(gen, config.generated);
  const target = (t) => {
    if (sync.value === "progress") return refDuration() ? (t / refDuration()) * genDuration() : 0;
    return Math.min(t, genDuration());
  };
  const applyRates = () => {
    const base = Number(rate.value);
    ref.playbackRate = base;
    gen.playbackRate = sync.value === "progress" && refDuration() ? base * (genDuration() / refDuration()) : base;
  };
  const seek = (t) => {
    ref.currentTime = Math.max(0, Math.min(t, refDuration()));
    gen.currentTime = target(ref.currentTime);
  };
  const render = () => {
    clock.textContent = `${ref.currentTime.toFixed(2)} / ${refDuration().toFixed(2)} s`;
    if (refDuration()) scrub.value = String(Math.round((ref.currentTime / refDuration()) * 1000));
    play.textContent = ref.paused ? "Play" : "Pause";
  };
  const toggle = () => {
    if (ref.paused) {
      if (ref.ended) seek(0);
      applyRates();
      ref.play().catch(() => {});
      gen.play().catch(() => {});
    } else {
      ref.pause();
      gen.pause();
      gen.currentTime = target(ref.currentTime);
    }
    render();
  };
  const step = (frames) => {
    ref.pause();
    gen.pause();
    const fps = config.reference.fps || 24;
    const frame = Math.max(0, Math.floor(ref.currentTime * fps + 1e-6) + frames);
    seek((frame + 0.5) / fps); // the middle of the frame: its exact start can land on the one before
    render();
  };
  const tick = () => {
    if (!ref.paused && !ref.seeking && !gen.seeking) {
      const wanted = target(ref.currentTime);
      if (wanted >= genDuration() - 0.02) gen.pause();
      else if (Math.abs(gen.currentTime - wanted) > DRIFT_JUMP) gen.currentTime = wanted;
      else if (gen.paused) gen.play().catch(() => {});
    }
    render();
    requestAnimationFrame(tick);
  };

  play.addEventListener("click", toggle);
  document.getElementById("pair-back").addEventListener("click", () => step(-1));
  document.getElementById("pair-fwd").addEventListener("click", () => step(1));
  scrub.addEventListener("input", () => seek((Number(scrub.value) / 1000) * refDuration()));
  rate.addEventListener("change", applyRates);
  sync.addEventListener("change", () => {
    applyRates();
    gen.currentTime = target(ref.currentTime);
  });
  ref.addEventListener("ended", () => gen.pause());
  ref.addEventListener("loadedmetadata", applyRates);
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === " ") {
      event.preventDefault();
      toggle();
    } else if (event.key === ",") step(-1);
    else if (event.key === ".") step(1);
  });
  requestAnimationFrame(tick);
})();
