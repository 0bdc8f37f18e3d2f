/* The rating page: two videos on one clock, the rubric, the keyboard, drafts. On a page
 * without a rating form (an organizer reviewing a pair) only the player runs, read-only.
 *
 * Synchronisation: one element is the master clock (the reference, or the longer clip
 * when syncing by time); a requestAnimationFrame loop corrects the follower. Small drift
 * is absorbed by nudging the follower's playbackRate (no visible jump), large drift by
 * setting its currentTime. When either element stalls ('waiting') the other is paused
 * until the stalled one can play again, so they never drift apart while buffering.
 *
 * The next pair: on Enter the two videos preloaded below the page go on stage at once,
 * and the form is sent with fetch. Its answer (the next clip's data, the same as its page
 * would render) brings the rubric, the progress and the URL, without a page load (and
 * the right pair, should the server have chosen another). Any other answer (an error,
 * the end of the queue, a revision) is loaded as a page, as is the URL on Back.
 */
"use strict";

(() => {
  const root = document.getElementById("rate");
  if (!root) return;
  const config = JSON.parse(document.getElementById("rate-config").textContent);
  const $ = (id) => document.getElementById(id);

  // Drift thresholds, in seconds of the follower's own timeline.
  const DRIFT_NUDGE = 0.02; // below: leave alone (under half a frame at 24 fps)
  const DRIFT_JUMP = 0.25; // above: seek; between: adjust the rate
  const NUDGE_GAIN = 2.0; // rate change per second of drift
  const NUDGE_MAX = 0.25; // never more than ±25 % off the base rate
  const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];

  const meta = new Map([
    [$("video-ref"), config.reference],
    [$("video-gen"), config.generated],
  ]);

  class SyncPlayer {
    constructor(reference, generated) {
      this.reference = reference;
      this.generated = generated;
      this.mode = "time";
      this.rate = 1;
      this.loop = false;
      this.wantPlaying = false;
      this.stalled = new Set();
      this.ownSeeks = new Map();
      this.listeners = [];
      for (const el of [reference, generated]) this.watchElement(el);
    }

    // The next clip's pair in place of this one, as a freshly loaded page would have it.
    swap(reference, generated) {
      this.pause();
      this.reference = reference;
      this.generated = generated;
      this.stalled.clear();
      this.ownSeeks.clear();
      this.rate = 1;
      this.loop = false;
      for (const el of [reference, generated]) this.watchElement(el);
    }
    owns(el) {
      return el === this.reference || el === this.generated;
    }

    duration(el) {
      return Number.isFinite(el.duration) && el.duration > 0 ? el.duration : meta.get(el).duration_s;
    }
    fps(el) {
      return meta.get(el).fps || 24;
    }
    other(el) {
      return el === this.reference ? this.generated : this.reference;
    }
    // By time the longer clip drives, so that both are seen to their end; by progress
    // the reference drives and the generated clip is stretched onto it.
    get master() {
      if (this.mode === "progress") return this.reference;
      return this.duration(this.generated) > this.duration(this.reference) + 1e-3 ? this.generated : this.reference;
    }
    get follower() {
      return this.other(this.master);
    }
    map(from, to, t) {
      if (this.mode === "progress") return (t / this.duration(from)) * this.duration(to);
      return Math.min(t, this.duration(to));
    }
    baseRate(el) {
      if (el === this.master || this.mode === "time") return this.rate;
      return this.rate * (this.duration(el) / this.duration(this.master));
    }

    setTime(el, t) {
      const target = Math.max(0, Math.min(t, this.duration(el)));
      this.ownSeeks.set(el, target);
      el.currentTime = target;
    }
    seekMaster(t) {
      const master = this.master;
      this.setTime(master, t);
      this.setTime(this.follower, this.map(master, this.follower, t));
      this.emit();
    }
    seekFraction(fraction) {
      this.seekMaster(fraction * this.duration(this.master));
    }
    seekBy(seconds) {
      this.seekMaster(this.master.currentTime + seconds);
    }

    play() {
      const master = this.master;
      if (master.ended || master.currentTime >= this.duration(master) - 1e-3) this.seekMaster(0);
      this.wantPlaying = true;
      this.applyRates();
      for (const el of [this.reference, this.generated]) {
        if (!this.followerFinished(el)) el.play().catch(() => {});
      }
      this.emit();
    }
    pause() {
      this.wantPlaying = false;
      this.stalled.clear(); // a paused pair waits for nothing
      this.reference.pause();
      this.generated.pause();
      this.align();
      this.emit();
    }
    toggle() {
      this.wantPlaying ? this.pause() : this.play();
    }
    align() {
      const master = this.master;
      this.setTime(this.follower, this.map(master, this.follower, master.currentTime));
    }
    step(frames) {
      this.pause();
      const master = this.master;
      const fps = this.fps(master);
      const last = Math.max(0, (meta.get(master).frame_count || Math.round(this.duration(master) * fps)) - 1);
      const frame = Math.min(last, Math.max(0, this.frameOf(master) + frames));
      // Aim at the middle of the frame: a seek to its exact start can land on the one before.
      this.seekMaster((frame + 0.5) / fps);
    }
    frameOf(el) {
      return Math.floor(el.currentTime * this.fps(el) + 1e-6);
    }
    setRate(rate) {
      this.rate = rate;
      this.applyRates();
      this.emit();
    }
    setMode(mode) {
      this.mode = mode;
      this.applyRates();
      this.align();
      this.emit();
    }
    applyRates() {
      for (const el of [this.reference, this.generated]) el.playbackRate = this.baseRate(el);
    }
    // By time, the shorter clip holds its last frame while the longer one plays on.
    followerFinished(el) {
      if (el === this.master) return false;
      return this.map(this.master, el, this.master.currentTime) >= this.duration(el) - 0.5 / this.fps(el);
    }

    watchElement(el) {
      el.addEventListener("seeking", () => {
        if (!this.owns(el)) return; // a pair swapped out
        const expected = this.ownSeeks.get(el);
        this.ownSeeks.delete(el);
        if (expected !== undefined && Math.abs(expected - el.currentTime) < 0.01) return;
        // A seek that did not come from here (native controls, a script): carry it over.
        const other = this.other(el);
        this.setTime(other, this.map(el, other, el.currentTime));
        this.emit();
      });
      el.addEventListener("waiting", () => {
        if (!this.wantPlaying || !this.owns(el)) return;
        this.stalled.add(el);
        this.other(el).pause();
        this.emit();
      });
      const ready = () => {
        if (!this.owns(el) || !this.stalled.delete(el)) return;
        if (this.wantPlaying && this.stalled.size === 0) {
          for (const each of [this.reference, this.generated]) {
            if (each.paused && !this.followerFinished(each)) each.play().catch(() => {});
          }
        }
        this.emit();
      };
      el.addEventListener("canplay", ready);
      el.addEventListener("playing", ready);
      el.addEventListener("ended", () => {
        if (!this.owns(el) || el !== this.master) return;
        if (this.loop && this.wantPlaying) {
          this.seekMaster(0);
          this.play();
        } else {
          this.wantPlaying = false;
          this.other(el).pause();
        }
        this.emit();
      });
      el.addEventListener("timeupdate", () => this.owns(el) && this.emit());
      el.addEventListener("loadedmetadata", () => {
        if (!this.owns(el)) return;
        this.applyRates();
        this.emit();
      });
    }

    tick() {
      const master = this.master;
      const follower = this.follower;
      if (this.wantPlaying && this.stalled.size === 0 && !master.paused && !master.seeking && !follower.seeking) {
        if (this.followerFinished(follower)) {
          follower.playbackRate = this.baseRate(follower);
        } else {
          if (follower.paused) follower.play().catch(() => {});
          const target = this.map(master, follower, master.currentTime);
          const drift = follower.currentTime - target;
          const base = this.baseRate(follower);
          if (Math.abs(drift) > DRIFT_JUMP) {
            this.setTime(follower, target);
            follower.playbackRate = base;
          } else if (Math.abs(drift) > DRIFT_NUDGE) {
            const nudge = Math.max(-NUDGE_MAX, Math.min(NUDGE_MAX, drift * NUDGE_GAIN));
            follower.playbackRate = base * (1 - nudge);
          } else if (follower.playbackRate !== base) {
            follower.playbackRate = base;
          }
        }
      }
      this.emit();
    }

    watched(el) {
      let total = 0;
      for (let i = 0; i < el.played.length; i += 1) total += el.played.end(i) - el.played.start(i);
      return Math.min(1, total / this.duration(el));
    }

    onChange(fn) {
      this.listeners.push(fn);
    }
    emit() {
      for (const fn of this.listeners) fn(this);
    }
  }

  let reference = $("video-ref");
  let generated = $("video-gen");
  const player = new SyncPlayer(reference, generated);
  const stage = $("stage");
  const form = $("rating-form");
  // Without a rating form (an organizer reviewing a pair) the page only plays the two clips.
  const rating = form !== null;
  const fields = $("rubric-fields");
  const submitButton = $("btn-submit");
  const comment = $("comment");
  const errorBox = $("form-error");
  let draftKey = `refscore:draft:${config.assignment}`;
  const prefs = JSON.parse(localStorage.getItem("refscore:player") || "{}");

  if (config.cleared_draft) localStorage.removeItem(`refscore:draft:${config.cleared_draft}`);

  // ---- watching and time on the page ------------------------------------------------
  let draft = null;
  const watchedBefore = { ref: 0, gen: 0 };
  let elapsedBefore = 0;
  let visibleSince = null;
  // The clip's draft, if any, and its clock: on the page's load and on each swap.
  function beginClip() {
    draftKey = `refscore:draft:${config.assignment}`;
    draft = rating ? JSON.parse(localStorage.getItem(draftKey) || "null") : null;
    watchedBefore.ref = draft?.watched_reference || 0;
    watchedBefore.gen = draft?.watched_generated || 0;
    elapsedBefore = draft?.time_on_page_s || 0;
    visibleSince = document.visibilityState === "visible" ? performance.now() : null;
  }
  beginClip();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") visibleSince = performance.now();
    else if (visibleSince !== null) {
      elapsedBefore += (performance.now() - visibleSince) / 1000;
      visibleSince = null;
      saveDraft();
    }
  });
  const timeOnPage = () => elapsedBefore + (visibleSince === null ? 0 : (performance.now() - visibleSince) / 1000);
  const watchedRef = () => Math.max(watchedBefore.ref, player.watched(reference));
  const watchedGen = () => Math.max(watchedBefore.gen, player.watched(generated));
  const unlocked = () =>
    !config.locked && (!config.require_full_watch || Math.min(watchedRef(), watchedGen()) >= config.full_watch_min);

  let wasUnlocked = false;
  // Between Enter and the server's answer the form stays as it was sent.
  let pending = false;
  function renderWatch() {
    if (!rating || pending) return;
    const wr = watchedRef();
    const wg = watchedGen();
    $("watch-ref").value = wr;
    $("watch-gen").value = wg;
    $("watch-ref-text").textContent = `${Math.floor(wr * 100)}%`;
    $("watch-gen-text").textContent = `${Math.floor(wg * 100)}%`;
    const open = unlocked();
    if (open !== wasUnlocked) {
      wasUnlocked = open;
      fields.disabled = !open;
      submitButton.disabled = !open;
      $("lock").hidden = open || config.locked;
      $("watch").classList.toggle("complete", open);
      if (open) saveDraft();
    }
  }

  // ---- the rubric: questions and score always agree ---------------------------------
  const radios = (name) => [...form.querySelectorAll(`input[name="${name}"]`)];
  const valueOf = (name) => {
    const checked = radios(name).find((r) => r.checked);
    return checked ? checked.value : null;
  };
  const setRadio = (name, value) => {
    for (const r of radios(name)) r.checked = value !== null && r.value === String(value);
  };
  const ANSWERS = {
    3: { final_state: "true", clean: "true", motion: null },
    2: { final_state: "true", clean: "false", motion: null },
    1: { final_state: "false", clean: null, motion: "true" },
    0: { final_state: "false", clean: null, motion: "false" },
  };
  function scoreFromAnswers() {
    const state = valueOf("final_state");
    if (state === null) return null;
    const follow = valueOf(state === "true" ? "clean" : "motion");
    if (follow === null) return null;
    return (state === "true" ? 2 : 0) + (follow === "true" ? 1 : 0);
  }
  function showBranch() {
    const state = valueOf("final_state");
    for (const q of form.querySelectorAll(".question[data-when]")) {
      const active = state !== null && q.dataset.when === state;
      q.classList.toggle("inactive", !active);
      for (const r of q.querySelectorAll("input")) r.tabIndex = active ? 0 : -1;
    }
    for (const q of form.querySelectorAll(".question")) {
      const name = q.dataset.question;
      const onPath = name === "final_state" || q.dataset.when === state;
      q.classList.toggle("current", onPath && valueOf(name) === null);
    }
  }
  function chooseScore(score) {
    const answers = ANSWERS[score];
    setRadio("score", score);
    for (const name of ["final_state", "clean", "motion"]) setRadio(name, answers[name]);
    afterChange();
  }
  function answer(name, value) {
    setRadio(name, value);
    // Off-branch answers go: they belong to a judgement no longer held.
    if (name === "final_state") setRadio(value === "true" ? "motion" : "clean", null);
    setRadio("score", scoreFromAnswers());
    afterChange();
  }
  function afterChange() {
    showBranch();
    errorBox.hidden = true;
    saveDraft();
  }
  if (rating) {
    for (const name of ["final_state", "clean", "motion"]) {
      for (const r of radios(name)) r.addEventListener("change", () => answer(name, r.value));
    }
    for (const r of radios("score")) r.addEventListener("change", () => chooseScore(Number(r.value)));
    comment.addEventListener("input", saveDraft);
  }

  function answerOpenQuestion(yes) {
    const state = valueOf("final_state");
    // Once the first question is answered, y and n go to the follow-up on its branch.
    const open = state === null ? "final_state" : state === "true" ? "clean" : "motion";
    answer(open, yes ? "true" : "false");
  }

  // ---- drafts ----------------------------------------------------------------------
  function saveDraft() {
    if (!rating || pending) return; // pending: the draft as sent stays, for a failed submit
    const data = {
      score: valueOf("score"),
      final_state: valueOf("final_state"),
      clean: valueOf("clean"),
      motion: valueOf("motion"),
      comment: comment.value,
      time_on_page_s: timeOnPage(),
      watched_reference: watchedRef(),
      watched_generated: watchedGen(),
      saved_at: Date.now(),
    };
    try {
      localStorage.setItem(draftKey, JSON.stringify(data));
    } catch (e) {
      /* storage full or disabled: the page still works, only without drafts */
    }
  }
  function restoreDraft() {
    if (!draft) return;
    for (const name of ["final_state", "clean", "motion", "score"]) if (draft[name] !== undefined) setRadio(name, draft[name]);
    if (typeof draft.comment === "string") comment.value = draft.comment;
  }
  restoreDraft();
  if (rating) showBranch();
  window.addEventListener("pagehide", saveDraft);
  setInterval(saveDraft, 5000);

  // ---- player UI ---------------------------------------------------------------------
  const PLAY_ICON = "M4 2l10 6-10 6z";
  const PAUSE_ICON = "M3 2h4v12H3zM9 2h4v12H9z";
  let shownPlaying = false;
  const fmt = (t) => (Number.isFinite(t) ? t.toFixed(2) : "0.00");
  function renderPlayer() {
    const master = player.master;
    const d = player.duration(master);
    if (document.activeElement !== $("scrub")) $("scrub").value = String(Math.round((master.currentTime / d) * 1000) || 0);
    $("time").textContent = `${fmt(master.currentTime)} / ${fmt(d)} s`;
    for (const [el, id] of [[reference, "clock-ref"], [generated, "clock-gen"]]) {
      const frames = meta.get(el).frame_count;
      $(id).textContent = `${fmt(el.currentTime)} s · frame ${Math.min(player.frameOf(el) + 1, frames)}/${frames} · ${meta.get(el).fps.toFixed(0)} fps`;
    }
    const playing = player.wantPlaying;
    if (playing !== shownPlaying) {
      shownPlaying = playing;
      $("btn-play").querySelector("path").setAttribute("d", playing ? PAUSE_ICON : PLAY_ICON);
    }
    $("btn-play").setAttribute("aria-label", playing ? "Pause" : "Play");
    $("btn-loop").setAttribute("aria-pressed", String(player.loop));
    $("buffering").hidden = !(player.wantPlaying && player.stalled.size > 0);
    renderWatch();
  }
  player.onChange(renderPlayer);
  const frameLoop = () => {
    player.tick();
    requestAnimationFrame(frameLoop);
  };
  requestAnimationFrame(frameLoop);

  function setLayout(layout) {
    stage.classList.toggle("stacked", layout !== "side");
    stage.classList.toggle("side", layout === "side");
    prefs.layout = layout;
    localStorage.setItem("refscore:player", JSON.stringify(prefs));
  }
  const toggleLayout = () => setLayout(stage.classList.contains("side") ? "stacked" : "side");
  const setRate = (rate) => {
    $("rate-select").value = String(rate);
    player.setRate(rate);
  };
  const shiftRate = (direction) => {
    const index = RATES.indexOf(player.rate);
    setRate(RATES[Math.max(0, Math.min(RATES.length - 1, (index < 0 ? 3 : index) + direction))]);
  };
  const setMode = (mode) => {
    $("sync-select").value = mode;
    player.setMode(mode);
  };
  const toggleFullscreen = () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else stage.requestFullscreen?.().catch(() => {});
  };
  const toggleLoop = () => {
    player.loop = !player.loop;
    player.emit();
  };

  $("btn-play").addEventListener("click", () => player.toggle());
  $("btn-back").addEventListener("click", () => player.step(-1));
  $("btn-fwd").addEventListener("click", () => player.step(1));
  $("btn-loop").addEventListener("click", toggleLoop);
  $("btn-layout").addEventListener("click", toggleLayout);
  $("btn-full").addEventListener("click", toggleFullscreen);
  $("rate-select").addEventListener("change", (e) => player.setRate(Number(e.target.value)));
  $("sync-select").addEventListener("change", (e) => player.setMode(e.target.value));
  $("scrub").addEventListener("input", (e) => player.seekFraction(Number(e.target.value) / 1000));
  const clickToggles = (el) => el.addEventListener("click", () => player.toggle());
  for (const el of [reference, generated]) clickToggles(el);
  setLayout(prefs.layout || "stacked");
  // Different lengths or frame rates: progress sync keeps the two episodes' phases together.
  const initialMode = (pair) => {
    const sameShape =
      Math.abs(pair.reference.duration_s - pair.generated.duration_s) < 0.05 &&
      Math.abs(pair.reference.fps - pair.generated.fps) < 0.01;
    return sameShape ? "time" : "progress";
  };
  setMode(initialMode(config));

  // ---- submit ----------------------------------------------------------------------
  let submitting = false;
  function flash(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }
  form?.addEventListener("submit", (event) => {
    if (submitting) return event.preventDefault();
    if (!unlocked()) {
      event.preventDefault();
      return flash(config.locked ? "This campaign takes no ratings now." : "Watch both clips to the end first.");
    }
    if (valueOf("score") === null) {
      event.preventDefault();
      return flash("Choose a score (keys 0–3) or answer the questions first.");
    }
    $("f-time").value = timeOnPage().toFixed(2);
    $("f-watched-ref").value = watchedRef().toFixed(4);
    $("f-watched-gen").value = watchedGen().toFixed(4);
    // The key came with the page; a resent form keeps it, so the server stores one rating.
    const key = $("f-idempotency-key");
    if (!key.value) key.value = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    saveDraft();
    submitting = true;
    submitButton.disabled = true;
    if (!window.fetch) return; // the browser posts the form and loads the next page
    event.preventDefault();
    pending = true;
    if (config.upcoming) showPair(config.upcoming, $("preload-ref"), $("preload-gen"));
    send();
  });

  async function send() {
    let answer;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
      if (!response.ok || !json) throw new Error(`answered ${response.status}`);
      answer = await response.json();
    } catch (e) {
      // No usable answer (offline, signed out, a server error): post the form as a page.
      // It carries the same idempotency key, so a rating that did arrive is stored once.
      return form.submit();
    }
    if (!answer.page) return window.location.assign(answer.location);
    try {
      const { reference: ref, generated: gen } = answer.page.config;
      if (reference.getAttribute("src") !== ref.video || generated.getAttribute("src") !== gen.video) {
        showPair(answer.page.config, null, null); // not the pair preloaded: load this one
      }
      swapIn(answer.page);
    } catch (e) {
      return window.location.assign(answer.location);
    }
    history.pushState({ assignment: config.assignment }, "", answer.location);
    shownPath = window.location.pathname;
  }
  // Back and Forward to another clip's URL load its page, as after a page load. The
  // browser may do it in this document (entries a swap made, even after a reload) or
  // bring this one back from its cache as last shown.
  let shownPath = window.location.pathname;
  const loadIfMoved = () => window.location.pathname !== shownPath && window.location.reload();
  window.addEventListener("popstate", loadIfMoved);
  window.addEventListener("pageshow", (event) => event.persisted && loadIfMoved());

  // ---- the next pair, without a page load --------------------------------------------
  function videoFor(id, media, preloaded) {
    let el = preloaded;
    if (!el || el.getAttribute("src") !== media.video) {
      el = document.createElement("video");
      el.preload = "auto";
      el.src = media.video;
    }
    el.id = id;
    el.muted = true;
    el.setAttribute("muted", "");
    el.playsInline = true;
    if (media.poster) el.poster = media.poster;
    else el.removeAttribute("poster");
    return el;
  }
  function preloadNext(upcoming) {
    const box = $("preload");
    box.replaceChildren();
    if (!upcoming) return;
    box.append(videoFor("preload-ref", upcoming.reference, null), videoFor("preload-gen", upcoming.generated, null));
  }
  function showInstruction(text) {
    const lines = (text || "No instruction for this task: compare with the reference.").split(/\r\n|\r|\n/);
    const nodes = lines.flatMap((line, i) => (i ? [document.createElement("br"), line] : [line]));
    $("task-instruction-text").replaceChildren(...nodes);
  }
  // A pair on stage in place of the one shown, playing from the start; the preloaded
  // elements hold their first frames already.
  function showPair(pair, preloadedRef, preloadedGen) {
    const nextRef = videoFor("video-ref", pair.reference, preloadedRef);
    const nextGen = videoFor("video-gen", pair.generated, preloadedGen);
    const old = [reference, generated];
    player.swap(nextRef, nextGen);
    meta.clear();
    meta.set(nextRef, pair.reference);
    meta.set(nextGen, pair.generated);
    reference.replaceWith(nextRef);
    generated.replaceWith(nextGen);
    [reference, generated] = [nextRef, nextGen];
    for (const el of old) {
      el.removeAttribute("src");
      el.load(); // lets the old pair's media go
    }
    for (const el of [reference, generated]) clickToggles(el);
    $("rate-select").value = "1";
    setMode(initialMode(pair));
    autostart();
  }
  // The rest of the next clip's page: its header, its instruction, a fresh form.
  function swapIn(page) {
    const done = config.assignment;
    Object.assign(config, page.config);
    meta.set(reference, config.reference);
    meta.set(generated, config.generated);
    preloadNext(config.upcoming);

    // The header, the task's instruction, the form.
    const { task, position } = page;
    const progress = `${position.done} of ${position.total} rated in Task ${task.number}`;
    document.title = `Task ${task.number} · clip ${position.position} of ${position.total} · refscore`;
    $("where-task").textContent = `Task ${task.number}`;
    $("where-clip").textContent = `clip ${position.position} of ${position.total}`;
    $("task-title").textContent = task.title;
    $("task-title").hidden = !task.title;
    $("head-progress").title = progress;
    $("progress-text").textContent = progress;
    $("progress-bar").max = position.total;
    $("progress-bar").value = position.done;
    showInstruction(task.instruction);
    for (const stale of document.querySelectorAll(".messages, #rated-note")) stale.remove();
    form.action = page.action;
    $("f-idempotency-key").value = page.idempotency_key;
    $("submit-label").textContent = "Submit & next";
    for (const id of ["f-time", "f-watched-ref", "f-watched-gen"]) $(id).value = "0";
    for (const name of ["final_state", "clean", "motion", "score"]) setRadio(name, null);
    comment.value = "";
    errorBox.hidden = true;
    const gated = config.require_full_watch || config.locked;
    fields.disabled = gated;
    submitButton.disabled = gated;
    $("lock").hidden = !config.require_full_watch || config.locked;
    $("watch").classList.remove("complete");
    wasUnlocked = false;
    pending = false;
    beginClip();
    restoreDraft();
    showBranch();
    submitting = false;
    document.activeElement?.blur?.();
    localStorage.removeItem(`refscore:draft:${done}`);
    player.emit();
  }
  const submit = () => {
    if (!unlocked()) return flash(config.locked ? "This campaign takes no ratings now." : "Scoring is locked until both clips have played to the end once.");
    form.requestSubmit();
  };

  // ---- help ------------------------------------------------------------------------
  const help = $("help");
  const toggleHelp = (show = help?.hidden) => {
    if (help) help.hidden = !show;
  };
  $("btn-help")?.addEventListener("click", () => toggleHelp());
  $("btn-help-close")?.addEventListener("click", () => toggleHelp(false));

  // ---- keyboard ----------------------------------------------------------------------
  const typing = (el) => el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && !["radio", "range", "checkbox"].includes(el.type)) || el.isContentEditable);
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") target.blur();
      else if (event.key === "Enter" && !event.shiftKey && target === comment) {
        event.preventDefault();
        submit();
      }
      return; // shortcuts are off while typing
    }
    if (target.tagName === "SELECT" && !["Escape", "Enter"].includes(event.key)) return;
    const key = event.key;
    // The form is on its way: what it holds is what was sent, until the answer.
    if (submitting && ["0", "1", "2", "3", "y", "n", "c", "enter"].includes(key.toLowerCase())) {
      return event.preventDefault();
    }
    const actions = {
      " ": () => player.toggle(),
      k: () => player.toggle(),
      ",": () => player.step(-1),
      ".": () => player.step(1),
      ArrowLeft: () => player.seekBy(-1),
      ArrowRight: () => player.seekBy(1),
      Home: () => player.seekMaster(0),
      "[": () => shiftRate(-1),
      "]": () => shiftRate(1),
      l: toggleLoop,
      s: () => setMode(player.mode === "time" ? "progress" : "time"),
      v: toggleLayout,
      f: toggleFullscreen,
      c: () => comment.focus(),
      "?": () => toggleHelp(),
      h: () => toggleHelp(),
      Escape: () => toggleHelp(false),
      Enter: () => {
        if (target.tagName === "A") return (window.location.href = target.href);
        if (target.tagName === "BUTTON" && target !== submitButton) return target.click();
        submit();
      },
      y: () => (fields.disabled ? flash("Scoring is locked until both clips have played to the end once.") : answerOpenQuestion(true)),
      n: () => (fields.disabled ? flash("Scoring is locked until both clips have played to the end once.") : answerOpenQuestion(false)),
    };
    for (const n of ["0", "1", "2", "3"]) {
      actions[n] = () => (fields.disabled ? flash("Scoring is locked until both clips have played to the end once.") : chooseScore(Number(n)));
    }
    if (!rating) for (const only of ["c", "y", "n", "0", "1", "2", "3", "Enter"]) delete actions[only];
    const action = actions[key] || actions[key.toLowerCase?.()];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // Start at once: the media were preloaded with the previous clip.
  function autostart() {
    if (!rating || config.locked) return;
    const pair = [reference, generated];
    const start = () => {
      if (player.owns(pair[0]) && !player.wantPlaying && pair.every((el) => el.readyState >= 2)) player.play();
    };
    for (const el of pair) el.addEventListener("canplay", start, { once: true });
    start();
  }
  autostart();
  window.refscorePlayer = player; // for the browser tests and for debugging in the console
})();
