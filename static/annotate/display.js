/* What the player shows, as text, and a gate that lets a write through only when what it
 * shows changes. The player renders on every animation frame; through the gate a paused
 * pair costs no DOM write at all, and a playing one only the figures that moved.
 */
import { format, gettext } from "./i18n.js";

/** Seconds with two decimals; what is not yet known shows as 0.00. */
export function seconds(t) {
  return Number.isFinite(t) ? t.toFixed(2) : "0.00";
}

/** The master clock: "1.20 / 4.00 s". */
export function timeText(t, duration) {
  return `${seconds(t)} / ${seconds(duration)} s`;
}

/** One clip's clock: time, frame (1-based, never past the last) and frame rate. */
export function clockText({ time, frame, frameCount, fps }) {
  return format(gettext("%(time)s s · frame %(frame)s/%(count)s · %(fps)s fps"), {
    time: seconds(time),
    frame: Math.min(frame + 1, frameCount),
    count: frameCount,
    fps: fps.toFixed(0),
  });
}

/** The scrub bar's position, in thousandths of the master's duration. */
export function scrubValue(t, duration) {
  return String(Math.round((t / duration) * 1000) || 0);
}

/** A watched fraction as the page shows it: whole percent, rounded down. */
export function percentText(fraction) {
  return `${Math.floor(fraction * 100)}%`;
}

/** A meter's value in the percent steps its text shows: a 90-pixel meter shows no
 * finer step, and each step costs a write. */
export function meterValue(fraction) {
  return Math.floor(fraction * 100) / 100;
}

export class ChangeGate {
  constructor() {
    this.shown = new Map();
  }

  /** Calls `write(value)` unless `value` is what was last written under `key`; says
   * whether it wrote. */
  show(key, value, write) {
    if (this.shown.has(key) && Object.is(this.shown.get(key), value)) return false;
    this.shown.set(key, value);
    write(value);
    return true;
  }

  /** Something else wrote `key` (the person, a reset): the next `show` writes again. */
  forget(key) {
    this.shown.delete(key);
  }
}
