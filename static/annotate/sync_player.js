/* Two media elements on one clock.
 *
 * One element is the master clock (the reference, or the longer clip when syncing by
 * time); `tick()`, called on every animation frame, corrects the follower. Small drift
 * is absorbed by nudging the follower's playbackRate (no visible jump), large drift by
 * setting its currentTime. When either element stalls ('waiting') the other is paused
 * until the stalled one can play again, so they never drift apart while buffering.
 *
 * The class touches only the two elements it is given (their media API and events), so
 * it runs in Node too, on stand-ins with the same properties.
 */
import {
  DEFAULT_FPS,
  baseRate,
  driftCorrection,
  frameOf,
  generatedDrives,
  holdsLastFrame,
  mapTime,
  playedFraction,
  stepTime,
} from "./sync.js";

const ignore = () => {};

export class SyncPlayer {
  /** `info` gives each clip's duration_s, fps and frame_count, as the page knows them
   * before the media's own metadata arrives. */
  constructor(reference, generated, info) {
    this.mode = "time";
    this.rate = 1;
    this.loop = false;
    this.wantPlaying = false;
    this.stalled = new Set();
    this.ownSeeks = new Map();
    this.info = new Map();
    this.listeners = [];
    this.attach(reference, generated, info);
  }

  attach(reference, generated, info) {
    this.reference = reference;
    this.generated = generated;
    this.info.clear();
    this.info.set(reference, info.reference);
    this.info.set(generated, info.generated);
    for (const el of [reference, generated]) this.watchElement(el);
  }

  /** The next clip's pair in place of this one, as a freshly loaded page would have it. */
  swap(reference, generated, info) {
    this.pause();
    this.stalled.clear();
    this.ownSeeks.clear();
    this.rate = 1;
    this.loop = false;
    this.attach(reference, generated, info);
  }

  /** New facts about the clips on stage (the next clip's page data after a swap). */
  describe(info) {
    this.info.set(this.reference, info.reference);
    this.info.set(this.generated, info.generated);
  }

  owns(el) {
    return el === this.reference || el === this.generated;
  }
  duration(el) {
    return Number.isFinite(el.duration) && el.duration > 0 ? el.duration : this.info.get(el).duration_s;
  }
  fps(el) {
    return this.info.get(el).fps || DEFAULT_FPS;
  }
  frameCount(el) {
    return this.info.get(el).frame_count;
  }
  other(el) {
    return el === this.reference ? this.generated : this.reference;
  }
  get master() {
    return generatedDrives(this.mode, this.duration(this.reference), this.duration(this.generated))
      ? this.generated
      : this.reference;
  }
  get follower() {
    return this.other(this.master);
  }
  map(from, to, t) {
    return mapTime(this.mode, t, this.duration(from), this.duration(to));
  }
  baseRate(el) {
    const master = this.master;
    return baseRate({
      mode: this.mode,
      rate: this.rate,
      isMaster: el === master,
      duration: this.duration(el),
      masterDuration: this.duration(master),
    });
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
      if (!this.followerFinished(el)) el.play().catch(ignore);
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
    if (this.wantPlaying) this.pause();
    else this.play();
  }
  align() {
    const master = this.master;
    this.setTime(this.follower, this.map(master, this.follower, master.currentTime));
  }
  step(frames) {
    this.pause();
    const master = this.master;
    this.seekMaster(
      stepTime({
        currentTime: master.currentTime,
        fps: this.fps(master),
        frames,
        frameCount: this.frameCount(master),
        duration: this.duration(master),
      }),
    );
  }
  frameOf(el) {
    return frameOf(el.currentTime, this.fps(el));
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
  setLoop(loop) {
    this.loop = loop;
    this.emit();
  }
  applyRates() {
    for (const el of [this.reference, this.generated]) el.playbackRate = this.baseRate(el);
  }
  followerFinished(el) {
    if (el === this.master) return false;
    return holdsLastFrame({
      position: this.map(this.master, el, this.master.currentTime),
      duration: this.duration(el),
      fps: this.fps(el),
    });
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
          if (each.paused && !this.followerFinished(each)) each.play().catch(ignore);
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

  /** One animation frame: the follower corrected onto the master, then the listeners told. */
  tick() {
    const master = this.master;
    const follower = this.follower;
    if (this.wantPlaying && this.stalled.size === 0 && !master.paused && !master.seeking && !follower.seeking) {
      const base = this.baseRate(follower);
      let rate = base;
      if (!this.followerFinished(follower)) {
        if (follower.paused) follower.play().catch(ignore);
        const target = this.map(master, follower, master.currentTime);
        const correction = driftCorrection(follower.currentTime - target, base);
        if (correction.seek) this.setTime(follower, target);
        rate = correction.rate;
      }
      if (follower.playbackRate !== rate) follower.playbackRate = rate;
    }
    this.emit();
  }

  /** The share of `el` played so far in this document. */
  watched(el) {
    return playedFraction(el.played, this.duration(el));
  }

  onChange(fn) {
    this.listeners.push(fn);
  }
  emit() {
    for (const fn of this.listeners) fn(this);
  }
}
