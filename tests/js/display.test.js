// What the player shows (static/annotate/display.js), and the gate that keeps it from
// writing the page when nothing shown has changed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ChangeGate, clockText, meterValue, percentText, scrubValue, seconds, timeText } from "../../static/annotate/display.js";

describe("texts", () => {
  test("seconds with two decimals, unknown as 0.00", () => {
    assert.equal(seconds(1.234), "1.23");
    assert.equal(seconds(Number.NaN), "0.00");
    assert.equal(timeText(1.5, 4), "1.50 / 4.00 s");
  });

  test("a clip's clock counts frames from 1 and never past the last", () => {
    assert.equal(clockText({ time: 0, frame: 0, frameCount: 48, fps: 24 }), "0.00 s · frame 1/48 · 24 fps");
    assert.equal(clockText({ time: 2, frame: 48, frameCount: 48, fps: 23.976 }), "2.00 s · frame 48/48 · 24 fps");
  });

  test("the scrub bar in thousandths, 0 while the length is unknown", () => {
    assert.equal(scrubValue(1, 4), "250");
    assert.equal(scrubValue(0, 0), "0");
  });

  test("watched shares: whole percent rounded down, in the text and in the meter", () => {
    assert.equal(percentText(0.999), "99%");
    assert.equal(percentText(1), "100%");
    assert.equal(meterValue(0.999), 0.99);
    assert.equal(meterValue(1), 1);
  });
});

describe("ChangeGate", () => {
  test("writes a value once, and again only when it changes", () => {
    const gate = new ChangeGate();
    const written = [];
    const write = (value) => written.push(value);
    for (const value of ["0.00", "0.00", "0.04", "0.04", "0.04", "0.08"]) gate.show("time", value, write);
    assert.deepEqual(written, ["0.00", "0.04", "0.08"]);
  });

  test("keys are independent", () => {
    const gate = new ChangeGate();
    const written = [];
    assert.equal(gate.show("a", 1, (v) => written.push(["a", v])), true);
    assert.equal(gate.show("b", 1, (v) => written.push(["b", v])), true);
    assert.equal(gate.show("a", 1, (v) => written.push(["a", v])), false);
    assert.deepEqual(written, [["a", 1], ["b", 1]]);
  });

  test("false, NaN and undefined are values like any other", () => {
    const gate = new ChangeGate();
    let writes = 0;
    for (const value of [false, false, Number.NaN, Number.NaN, undefined, undefined]) gate.show("k", value, () => (writes += 1));
    assert.equal(writes, 3);
  });

  test("after forget the next value is written even if it is the same", () => {
    const gate = new ChangeGate();
    let writes = 0;
    gate.show("scrub", "500", () => (writes += 1));
    gate.forget("scrub");
    gate.show("scrub", "500", () => (writes += 1));
    assert.equal(writes, 2);
  });
});
