// The clock's arithmetic (static/annotate/sync.js): expected values worked out by hand
// from the rules in its comments.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DRIFT_JUMP,
  DRIFT_NUDGE,
  NUDGE_MAX,
  RATES,
  baseRate,
  driftCorrection,
  frameOf,
  generatedDrives,
  holdsLastFrame,
  initialMode,
  mapTime,
  playedFraction,
  shiftRate,
  stepTime,
} from "../../static/annotate/sync.js";

const close = (actual, expected, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

describe("mapTime", () => {
  test("by time the clips share seconds, the shorter one stopping at its end", () => {
    assert.equal(mapTime("time", 1.5, 4, 3), 1.5);
    assert.equal(mapTime("time", 3.5, 4, 3), 3);
  });
  test("by progress a 4 s reference at 1 s is a quarter into a 6 s clip", () => {
    close(mapTime("progress", 1, 4, 6), 1.5);
    close(mapTime("progress", 4, 4, 6), 6);
  });
  test("by progress an unknown length maps to the start instead of NaN", () => {
    assert.equal(mapTime("progress", 1, 0, 6), 0);
  });
});

describe("which clip drives", () => {
  test("by time the longer clip drives, so that both are seen to their end", () => {
    assert.equal(generatedDrives("time", 4, 5), true);
    assert.equal(generatedDrives("time", 5, 4), false);
  });
  test("equal lengths (within a millisecond) keep the reference as master", () => {
    assert.equal(generatedDrives("time", 4, 4.0005), false);
  });
  test("by progress the reference always drives", () => {
    assert.equal(generatedDrives("progress", 4, 8), false);
  });
});

describe("baseRate", () => {
  test("the master and every clip synced by time run at the chosen rate", () => {
    assert.equal(baseRate({ mode: "progress", rate: 1.5, isMaster: true, duration: 4, masterDuration: 4 }), 1.5);
    assert.equal(baseRate({ mode: "time", rate: 0.5, isMaster: false, duration: 8, masterDuration: 4 }), 0.5);
  });
  test("by progress an 8 s follower of a 4 s master runs twice as fast, so both end together", () => {
    assert.equal(baseRate({ mode: "progress", rate: 1, isMaster: false, duration: 8, masterDuration: 4 }), 2);
    assert.equal(baseRate({ mode: "progress", rate: 0.5, isMaster: false, duration: 2, masterDuration: 4 }), 0.25);
  });
});

describe("driftCorrection", () => {
  test("drift under the nudge threshold is left alone", () => {
    assert.deepEqual(driftCorrection(DRIFT_NUDGE / 2, 1), { seek: false, rate: 1 });
    assert.deepEqual(driftCorrection(-DRIFT_NUDGE / 2, 1.25), { seek: false, rate: 1.25 });
  });
  test("a follower 0.1 s ahead slows by 20 % (gain 2), one behind speeds up as much", () => {
    const ahead = driftCorrection(0.1, 1);
    assert.equal(ahead.seek, false);
    close(ahead.rate, 0.8);
    close(driftCorrection(-0.1, 1).rate, 1.2);
  });
  test("the nudge is relative to the base rate", () => {
    close(driftCorrection(0.05, 2).rate, 2 * 0.9);
  });
  test("the nudge never exceeds a quarter of the rate", () => {
    close(driftCorrection(0.2, 1).rate, 1 - NUDGE_MAX);
    close(driftCorrection(-0.2, 1).rate, 1 + NUDGE_MAX);
  });
  test("past the jump threshold the follower seeks and runs at its base rate", () => {
    assert.deepEqual(driftCorrection(DRIFT_JUMP + 0.01, 1.5), { seek: true, rate: 1.5 });
    assert.deepEqual(driftCorrection(-1, 1), { seek: true, rate: 1 });
  });
});

describe("frames", () => {
  test("frameOf counts whole frames, a seek to a frame's start staying on it", () => {
    assert.equal(frameOf(0, 24), 0);
    assert.equal(frameOf(1 / 24, 24), 1);
    assert.equal(frameOf(0.999, 24), 23);
    assert.equal(frameOf(10 / 30, 30), 10); // 10/30*30 is 9.999999999999998 in floating point
  });
  test("a step lands in the middle of the next frame", () => {
    close(stepTime({ currentTime: 0, fps: 24, frames: 1, frameCount: 48, duration: 2 }), 1.5 / 24);
    close(stepTime({ currentTime: 1.5 / 24, fps: 24, frames: -1, frameCount: 48, duration: 2 }), 0.5 / 24);
  });
  test("a step never leaves the clip", () => {
    close(stepTime({ currentTime: 0, fps: 24, frames: -1, frameCount: 48, duration: 2 }), 0.5 / 24);
    close(stepTime({ currentTime: 2, fps: 24, frames: 1, frameCount: 48, duration: 2 }), 47.5 / 24);
  });
  test("without a frame count, the duration says where the last frame is", () => {
    close(stepTime({ currentTime: 2, fps: 12, frames: 5, frameCount: null, duration: 2 }), 23.5 / 12);
  });
  test("a follower holds its last frame from half a frame before its end", () => {
    // Half a frame: 1/48 s (0.0208) at 24 fps, 1/24 s (0.0417) at 12 fps.
    assert.equal(holdsLastFrame({ position: 1.98, duration: 2, fps: 24 }), true);
    assert.equal(holdsLastFrame({ position: 1.97, duration: 2, fps: 24 }), false);
    assert.equal(holdsLastFrame({ position: 1.96, duration: 2, fps: 12 }), true);
  });
});

describe("speeds and modes", () => {
  test("[ and ] walk the list of rates and stop at its ends", () => {
    assert.equal(shiftRate(1, 1), 1.25);
    assert.equal(shiftRate(1, -1), 0.75);
    assert.equal(shiftRate(RATES.at(-1), 1), RATES.at(-1));
    assert.equal(shiftRate(RATES[0], -1), RATES[0]);
  });
  test("an unlisted rate counts as 1×", () => {
    assert.equal(shiftRate(1.1, 1), 1.25);
  });
  test("clips of the same length and frame rate sync by time, others by progress", () => {
    const clip = (duration_s, fps) => ({ duration_s, fps });
    assert.equal(initialMode({ reference: clip(4, 24), generated: clip(4.04, 24) }), "time");
    assert.equal(initialMode({ reference: clip(4, 12), generated: clip(4, 24) }), "progress");
    assert.equal(initialMode({ reference: clip(4, 24), generated: clip(5.3, 24) }), "progress");
  });
});

describe("playedFraction", () => {
  const ranges = (pairs) => ({ length: pairs.length, start: (i) => pairs[i][0], end: (i) => pairs[i][1] });
  test("adds the played ranges and divides by the length", () => {
    close(playedFraction(ranges([[0, 1], [2, 3.5]]), 5), 0.5);
  });
  test("never more than the whole clip, and nothing for an unknown length", () => {
    assert.equal(playedFraction(ranges([[0, 6]]), 5), 1);
    assert.equal(playedFraction(ranges([[0, 1]]), 0), 0);
  });
});
