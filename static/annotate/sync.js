/* The two clips' shared clock as arithmetic: which clip drives, where the other one
 * should be, how far off it may drift and how it is brought back. No DOM here, so the
 * rules the player follows are the ones `node --test tests/js/` checks.
 */

// Drift thresholds, in seconds of the follower's own timeline.
export const DRIFT_NUDGE = 0.02; // below: leave alone (under half a frame at 24 fps)
export const DRIFT_JUMP = 0.25; // above: seek; between: adjust the rate
export const NUDGE_GAIN = 2.0; // rate change per second of drift
export const NUDGE_MAX = 0.25; // never more than ±25 % off the base rate
export const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];
export const DEFAULT_FPS = 24;

const clamp = (x, low, high) => Math.max(low, Math.min(high, x));

/** Where `t` on one clip falls on the other: by progress the clips are stretched onto
 * each other; by time they share seconds, the shorter one holding its last frame. */
export function mapTime(mode, t, fromDuration, toDuration) {
  if (mode === "progress") return fromDuration > 0 ? (t / fromDuration) * toDuration : 0;
  return Math.min(t, toDuration);
}

/** By time the longer clip drives, so that both are seen to their end; by progress the
 * reference drives and the generated clip is stretched onto it. */
export function generatedDrives(mode, referenceDuration, generatedDuration) {
  return mode !== "progress" && generatedDuration > referenceDuration + 1e-3;
}

/** A clip's playback rate before any drift correction: by progress the follower runs
 * faster or slower so that both clips end together. */
export function baseRate({ mode, rate, isMaster, duration, masterDuration }) {
  if (isMaster || mode === "time" || !(masterDuration > 0)) return rate;
  return rate * (duration / masterDuration);
}

/** How to bring a follower `drift` seconds ahead (positive) or behind back onto the
 * master: a seek when far off, otherwise a rate a little off `base`, so that small
 * drift is absorbed without a visible jump. */
export function driftCorrection(drift, base) {
  const size = Math.abs(drift);
  if (size > DRIFT_JUMP) return { seek: true, rate: base };
  if (size > DRIFT_NUDGE) return { seek: false, rate: base * (1 - clamp(drift * NUDGE_GAIN, -NUDGE_MAX, NUDGE_MAX)) };
  return { seek: false, rate: base };
}

/** The frame shown at `t` (0-based); the epsilon keeps a seek to a frame's start on it. */
export function frameOf(t, fps) {
  return Math.floor(t * fps + 1e-6);
}

/** The time to seek to for a step of `frames` frames, clamped to the clip. It aims at the
 * middle of the frame: a seek to its exact start can land on the one before. */
export function stepTime({ currentTime, fps, frames, frameCount, duration }) {
  const last = Math.max(0, (frameCount || Math.round(duration * fps)) - 1);
  const frame = clamp(frameOf(currentTime, fps) + frames, 0, last);
  return (frame + 0.5) / fps;
}

/** By time, a follower whose position is past its last frame holds it while the master
 * plays on. */
export function holdsLastFrame({ position, duration, fps }) {
  return position >= duration - 0.5 / fps;
}

/** The next speed up or down the list; an unlisted rate counts as 1×. */
export function shiftRate(current, direction) {
  const index = RATES.indexOf(current);
  return RATES[clamp((index < 0 ? RATES.indexOf(1) : index) + direction, 0, RATES.length - 1)];
}

/** Different lengths or frame rates: progress sync keeps the two episodes' phases together. */
export function initialMode(pair) {
  const sameShape =
    Math.abs(pair.reference.duration_s - pair.generated.duration_s) < 0.05 &&
    Math.abs(pair.reference.fps - pair.generated.fps) < 0.01;
  return sameShape ? "time" : "progress";
}

/** The share of a clip that has been played, from its `played` time ranges. */
export function playedFraction(played, duration) {
  if (!(duration > 0)) return 0;
  let total = 0;
  for (let i = 0; i < played.length; i += 1) total += played.end(i) - played.start(i);
  return Math.min(1, total / duration);
}
