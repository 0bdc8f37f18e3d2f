/* The rating page's form beside the player: the rubric, the watch gate, drafts, submit,
 * and the next pair without a page load.
 *
 * The rubric's questions and the score always agree; the table linking them comes from
 * the page (rubric.js). Scoring unlocks once both clips have played to the end, when the
 * campaign asks so.
 *
 * The next pair: on Enter the two videos preloaded below the page go on stage at once,
 * and the form is sent with fetch. Its answer (the next clip's data, the same as its page
 * would render) brings the rubric, the progress and the URL, without a page load (and
 * the right pair, should the server have chosen another). Any other answer (an error,
 * the end of the queue, a revision) is loaded as a page, as is the URL on Back.
 *
 * Beside the rubric: break-point marks (mark_editor.js; kept in the draft and sent with
 * the rating), allowed while the clips still play, and the problem report
 * (problem_report.js), the way out for a pair that cannot be rated.
 */
import { ChangeGate, meterValue, percentText } from "./display.js";
import {
  DRAFT_FIELDS,
  VisibleClock,
  browserStorage,
  draftKey,
  draftRead,
  draftRecord,
  draftRemove,
  draftWrite,
  draftsPrune,
} from "./drafts.js";
import { format, gettext } from "./i18n.js";
import { MarkEditor } from "./mark_editor.js";
import { ProblemReport } from "./problem_report.js";
import { parseRubric } from "./rubric.js";
import { initialMode } from "./sync.js";

const $ = (id) => document.getElementById(id);
const LOCKED_FOR_WATCHING = gettext("Scoring is locked until both clips have played to the end once.");
const storage = browserStorage();

export class RatingForm {
  constructor({ form, config, player, controls, ticks }) {
    this.form = form;
    this.config = config;
    this.player = player;
    this.controls = controls;
    this.rubric = parseRubric($("rubric-answers").textContent);
    this.fields = $("rubric-fields");
    this.submitButton = $("btn-submit");
    this.comment = $("comment");
    this.errorBox = $("form-error");
    this.gate = new ChangeGate();
    this.wasUnlocked = false;
    this.pending = false; // between Enter and the server's answer the form stays as it was sent
    this.submitting = false;
    this.shownPath = window.location.pathname;

    if (config.cleared_draft) draftRemove(storage, draftKey(config.cleared_draft));
    draftsPrune(storage, Date.now());
    this.beginClip();
    this.marks = new MarkEditor({ player, ticks, config, onChange: () => this.saveDraft() });
    this.problem = new ProblemReport();

    const save = () => this.saveDraft();
    for (const name of this.rubric.questions) {
      for (const r of this.radios(name)) r.addEventListener("change", () => this.answer(name, r.value));
    }
    for (const r of this.radios("score")) r.addEventListener("change", () => this.chooseScore(Number(r.value)));
    this.comment.addEventListener("input", save);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.clock.show(performance.now());
      else {
        this.clock.hide(performance.now());
        this.saveDraft();
      }
    });
    window.addEventListener("pagehide", save);
    setInterval(save, 5000);
    form.addEventListener("submit", (event) => this.onSubmit(event));
    // Back and Forward to another clip's URL load its page, as after a page load. The
    // browser may do it in this document (entries a swap made, even after a reload) or
    // bring this one back from its cache as last shown.
    const loadIfMoved = () => window.location.pathname !== this.shownPath && window.location.reload();
    window.addEventListener("popstate", loadIfMoved);
    window.addEventListener("pageshow", (event) => event.persisted && loadIfMoved());

    this.restoreDraft();
    this.showBranch();
    player.onChange(() => this.renderWatch());
  }

  // ---- watching and time on the page ------------------------------------------------
  /** The clip's draft, if any, and its clock: on the page's load and on each swap. */
  beginClip() {
    this.draftKey = draftKey(this.config.assignment);
    this.draft = draftRead(storage, this.draftKey, Date.now());
    this.watchedBefore = { ref: this.draft?.watched_reference || 0, gen: this.draft?.watched_generated || 0 };
    this.clock = new VisibleClock({
      before: this.draft?.time_on_page_s || 0,
      visible: document.visibilityState === "visible",
      now: performance.now(),
    });
  }
  timeOnPage() {
    return this.clock.seconds(performance.now());
  }
  watchedRef() {
    return Math.max(this.watchedBefore.ref, this.player.watched(this.player.reference));
  }
  watchedGen() {
    return Math.max(this.watchedBefore.gen, this.player.watched(this.player.generated));
  }
  unlocked() {
    const { config } = this;
    return !config.locked && (!config.require_full_watch || Math.min(this.watchedRef(), this.watchedGen()) >= config.full_watch_min);
  }

  renderWatch() {
    if (this.pending) return;
    const { gate } = this;
    const wr = this.watchedRef();
    const wg = this.watchedGen();
    gate.show("watch-ref", meterValue(wr), (v) => ($("watch-ref").value = v));
    gate.show("watch-gen", meterValue(wg), (v) => ($("watch-gen").value = v));
    gate.show("watch-ref-text", percentText(wr), (t) => ($("watch-ref-text").textContent = t));
    gate.show("watch-gen-text", percentText(wg), (t) => ($("watch-gen-text").textContent = t));
    const open = this.unlocked();
    if (open !== this.wasUnlocked) {
      this.wasUnlocked = open;
      this.fields.disabled = !open;
      this.submitButton.disabled = !open;
      $("lock").hidden = open || this.config.locked;
      $("watch").classList.toggle("complete", open);
      if (open) this.saveDraft();
    }
  }

  // ---- the rubric: questions and score always agree ---------------------------------
  radios(name) {
    return [...this.form.querySelectorAll(`input[name="${name}"]`)];
  }
  valueOf(name) {
    const checked = this.radios(name).find((r) => r.checked);
    return checked ? checked.value : null;
  }
  setRadio(name, value) {
    for (const r of this.radios(name)) r.checked = value !== null && r.value === String(value);
  }
  answers() {
    return Object.fromEntries(this.rubric.questions.map((name) => [name, this.valueOf(name)]));
  }
  showBranch() {
    const { rubric } = this;
    const state = this.valueOf(rubric.root);
    for (const q of this.form.querySelectorAll(".question[data-question]")) {
      const name = q.dataset.question;
      const onPath = rubric.isOnPath(name, state);
      if (name !== rubric.root) {
        q.classList.toggle("inactive", !onPath);
        for (const r of q.querySelectorAll("input")) r.tabIndex = onPath ? 0 : -1;
      }
      q.classList.toggle("current", onPath && this.valueOf(name) === null);
    }
  }
  chooseScore(score) {
    const answers = this.rubric.answersFor(score);
    this.setRadio("score", score);
    for (const name of this.rubric.questions) this.setRadio(name, answers[name]);
    this.afterChange();
  }
  answer(name, value) {
    this.setRadio(name, value);
    // Off-branch answers go: they belong to a judgement no longer held.
    if (name === this.rubric.root) for (const other of this.rubric.offBranch(value)) this.setRadio(other, null);
    this.setRadio("score", this.rubric.scoreFor(this.answers()));
    this.afterChange();
  }
  answerOpenQuestion(yes) {
    this.answer(this.rubric.openQuestion(this.valueOf(this.rubric.root)), yes ? "true" : "false");
  }
  afterChange() {
    this.showBranch();
    this.errorBox.hidden = true;
    this.saveDraft();
  }

  // ---- drafts ----------------------------------------------------------------------
  saveDraft() {
    if (this.pending) return; // the draft as sent stays, for a failed submit
    const answers = Object.fromEntries(DRAFT_FIELDS.map((name) => [name, this.valueOf(name)]));
    draftWrite(
      storage,
      this.draftKey,
      draftRecord({
        answers,
        comment: this.comment.value,
        timeOnPage: this.timeOnPage(),
        watchedReference: this.watchedRef(),
        watchedGenerated: this.watchedGen(),
        now: Date.now(),
        marks: this.marks.marks,
      }),
    );
  }
  restoreDraft() {
    const { draft } = this;
    if (!draft) return;
    for (const name of DRAFT_FIELDS) if (draft[name] !== undefined) this.setRadio(name, draft[name]);
    if (typeof draft.comment === "string") this.comment.value = draft.comment;
    if (Array.isArray(draft.marks)) this.marks.set(this.marks.read(draft.marks), -1, { quiet: true });
  }

  // ---- submit ----------------------------------------------------------------------
  flash(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = false;
  }
  lockedMessage(watching) {
    return this.config.locked ? gettext("This campaign takes no ratings now.") : watching;
  }
  onSubmit(event) {
    if (this.submitting) return event.preventDefault();
    if (!this.unlocked()) {
      event.preventDefault();
      return this.flash(this.lockedMessage(gettext("Watch both clips to the end first.")));
    }
    if (this.valueOf("score") === null) {
      event.preventDefault();
      return this.flash(gettext("Choose a score (keys 0–3) or answer the questions first."));
    }
    $("f-time").value = this.timeOnPage().toFixed(2);
    $("f-watched-ref").value = this.watchedRef().toFixed(4);
    $("f-watched-gen").value = this.watchedGen().toFixed(4);
    // The key came with the page; a resent form keeps it, so the server stores one rating.
    const key = $("f-idempotency-key");
    if (!key.value) key.value = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    this.saveDraft();
    this.submitting = true;
    this.submitButton.disabled = true;
    if (!window.fetch) return; // the browser posts the form and loads the next page
    event.preventDefault();
    this.pending = true;
    if (this.config.upcoming) this.showPair(this.config.upcoming, $("preload-ref"), $("preload-gen"));
    this.send();
  }
  submit() {
    if (!this.unlocked()) return this.flash(this.lockedMessage(LOCKED_FOR_WATCHING));
    this.form.requestSubmit();
  }

  async send() {
    const { form, player } = this;
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
    } catch {
      // No usable answer (offline, signed out, a server error): post the form as a page.
      // It carries the same idempotency key, so a rating that did arrive is stored once.
      return form.submit();
    }
    if (!answer.page) return window.location.assign(answer.location);
    try {
      const { reference: ref, generated: gen } = answer.page.config;
      if (player.reference.getAttribute("src") !== ref.video || player.generated.getAttribute("src") !== gen.video) {
        this.showPair(answer.page.config, null, null); // not the pair preloaded: load this one
      }
      this.swapIn(answer.page);
    } catch {
      return window.location.assign(answer.location);
    }
    history.pushState({ assignment: this.config.assignment }, "", answer.location);
    this.shownPath = window.location.pathname;
  }

  // ---- the next pair, without a page load --------------------------------------------
  /** A pair on stage in place of the one shown, playing from the start; the preloaded
   * elements hold their first frames already. */
  showPair(pair, preloadedRef, preloadedGen) {
    const { player, controls } = this;
    const nextRef = videoFor("video-ref", pair.reference, preloadedRef);
    const nextGen = videoFor("video-gen", pair.generated, preloadedGen);
    const old = [player.reference, player.generated];
    player.swap(nextRef, nextGen, pair);
    old[0].replaceWith(nextRef);
    old[1].replaceWith(nextGen);
    for (const el of old) {
      el.removeAttribute("src");
      el.load(); // lets the old pair's media go
    }
    for (const el of [nextRef, nextGen]) controls.bindVideo(el);
    player.setMode(initialMode(pair));
    this.autostart();
  }

  /** The rest of the next clip's page: its header, its instruction, a fresh form. */
  swapIn(page) {
    const { config, player } = this;
    const done = config.assignment;
    Object.assign(config, page.config);
    player.describe(config);
    preloadNext(config.upcoming);

    // The same words as the page's own (templates/annotate/rate.html).
    const { task, position } = page;
    const values = { number: task.number, position: position.position, done: position.done, total: position.total };
    const progress = format(gettext("%(done)s of %(total)s rated in Task %(number)s"), values);
    document.title = `${format(gettext("Task %(number)s · clip %(position)s of %(total)s"), values)} · refscore`;
    $("where-task").textContent = format(gettext("Task %(number)s"), values);
    $("where-clip").textContent = format(gettext("clip %(position)s of %(total)s"), values);
    $("task-title").textContent = task.title;
    $("task-title").hidden = !task.title;
    $("head-progress").title = progress;
    $("progress-text").textContent = progress;
    $("progress-bar").max = position.total;
    $("progress-bar").value = position.done;
    showInstruction(task.instruction);
    for (const stale of document.querySelectorAll(".messages, #rated-note")) stale.remove();
    this.form.action = page.action;
    this.problem.reset(page.problem_action, !config.locked && !config.rated);
    this.marks.configure(config);
    $("f-idempotency-key").value = page.idempotency_key;
    $("submit-label").textContent = gettext("Submit & next");
    for (const id of ["f-time", "f-watched-ref", "f-watched-gen"]) $(id).value = "0";
    for (const name of DRAFT_FIELDS) this.setRadio(name, null);
    this.comment.value = "";
    this.errorBox.hidden = true;
    const gated = config.require_full_watch || config.locked;
    this.fields.disabled = gated;
    this.submitButton.disabled = gated;
    $("lock").hidden = !config.require_full_watch || config.locked;
    $("watch").classList.remove("complete");
    this.wasUnlocked = false;
    this.pending = false;
    this.beginClip();
    this.restoreDraft();
    this.showBranch();
    this.submitting = false;
    document.activeElement?.blur?.();
    draftRemove(storage, draftKey(done));
    player.emit();
  }

  /** Start at once: the media were preloaded with the previous clip. */
  autostart() {
    if (this.config.locked) return;
    const { player } = this;
    const pair = [player.reference, player.generated];
    const start = () => {
      if (player.owns(pair[0]) && !player.wantPlaying && pair.every((el) => el.readyState >= 2)) player.play();
    };
    for (const el of pair) el.addEventListener("canplay", start, { once: true });
    start();
  }

  /** The keys that rate; while the form is on its way they do nothing, so that what it
   * holds is what was sent. */
  actions(target) {
    const guarded = (fn) => () => (this.fields.disabled ? this.flash(LOCKED_FOR_WATCHING) : fn());
    const actions = {
      c: () => this.comment.focus(),
      Enter: () => {
        if (target.tagName === "A") return (window.location.href = target.href);
        if (target.tagName === "BUTTON" && target !== this.submitButton) return target.click();
        this.submit();
      },
      y: guarded(() => this.answerOpenQuestion(true)),
      n: guarded(() => this.answerOpenQuestion(false)),
      // Marks may be set while the clips still play, before scoring unlocks.
      m: () => this.marks.add(),
      t: () => this.marks.cycle(),
      x: () => this.marks.remove(),
      p: () => this.problem.open(),
    };
    for (const n of this.rubric.scores) actions[String(n)] = guarded(() => this.chooseScore(n));
    return actions;
  }
  blocksKey(key) {
    const keys = ["c", "y", "n", "m", "t", "x", "p", "enter", ...this.rubric.scores.map(String)];
    return this.submitting && keys.includes(key.toLowerCase());
  }
}

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
  const lines = (text || gettext("No instruction for this task: compare with the reference.")).split(/\r\n|\r|\n/);
  const nodes = lines.flatMap((line, i) => (i ? [document.createElement("br"), line] : [line]));
  $("task-instruction-text").replaceChildren(...nodes);
}
