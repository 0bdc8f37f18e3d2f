// Break-point marks as data (static/annotate/marks.js): the rules the server keeps too
// (annotate/marks.py), and the draft that carries them across a reload.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { draftRecord } from "../../static/annotate/drafts.js";
import {
  DEFAULT_MAX_MARKS,
  addMark,
  cycleLabel,
  formatMark,
  markTime,
  parseMarks,
  removeMark,
  selectionAfterRemove,
  serializeMarks,
  setLabel,
  tickFraction,
} from "../../static/annotate/marks.js";

const LABELS = ["deformation", "physics", "object_vanished", "wrong_motion"];
const DURATION = 4;

describe("the time of a mark", () => {
  test("is the clock's moment to the millisecond", () => {
    assert.equal(markTime(1.23456, DURATION), 1.235);
    assert.equal(markTime(0.0004, DURATION), 0);
  });
  test("stays within the clip", () => {
    assert.equal(markTime(-0.2, DURATION), 0);
    assert.equal(markTime(9, DURATION), DURATION);
    assert.equal(markTime(Number.NaN, DURATION), 0);
    // 2.9996 rounds to 3.000, past a clip of 2.9996 s: it stays on the clip's last millisecond.
    assert.equal(markTime(2.9996, 2.9996), 2.999);
  });
});

describe("adding marks", () => {
  test("keeps them sorted and says which one is new", () => {
    let marks = [];
    let result = addMark(marks, 2.5, { duration: DURATION });
    assert.deepEqual(result, { marks: [{ t: 2.5, label: "" }], index: 0, added: true });
    marks = result.marks;
    result = addMark(marks, 0.75, { duration: DURATION });
    assert.deepEqual(result.marks, [
      { t: 0.75, label: "" },
      { t: 2.5, label: "" },
    ]);
    assert.equal(result.index, 0);
    assert.notEqual(result.marks, marks, "a new array: the old one is left as it was");
    assert.equal(marks.length, 1);
  });
  test("a second press at the same moment selects the mark there, and adds none", () => {
    const { marks } = addMark([], 1.2, { duration: DURATION });
    const again = addMark(marks, 1.2001, { duration: DURATION });
    assert.deepEqual(again, { marks, index: 0, added: false });
  });
  test("a full list refuses", () => {
    let marks = [];
    for (let i = 0; i < DEFAULT_MAX_MARKS; i += 1) marks = addMark(marks, i / 10, { duration: DURATION }).marks;
    assert.equal(marks.length, 20);
    assert.deepEqual(addMark(marks, 3.9, { duration: DURATION }), { marks, index: -1, added: false });
    assert.equal(addMark([], 1, { duration: DURATION, max: 0 }).index, -1);
  });
});

describe("labels and removal", () => {
  const marks = [
    { t: 0.5, label: "" },
    { t: 1.5, label: "physics" },
    { t: 3, label: "" },
  ];
  test("t goes through the labels, then back to none", () => {
    const seen = [];
    let current = marks;
    for (let i = 0; i <= LABELS.length; i += 1) {
      current = cycleLabel(current, 0, LABELS);
      seen.push(current[0].label);
    }
    assert.deepEqual(seen, [...LABELS, ""]);
    assert.equal(cycleLabel(marks, 1, LABELS)[1].label, "object_vanished");
    assert.equal(marks[0].label, "", "the original is untouched");
    assert.equal(cycleLabel(marks, 7, LABELS), marks);
  });
  test("a label is set on one mark only", () => {
    assert.deepEqual(setLabel(marks, 2, "wrong_motion").map((m) => m.label), ["", "physics", "wrong_motion"]);
  });
  test("removing leaves the others in order; the selection moves to a neighbour", () => {
    assert.deepEqual(removeMark(marks, 1).map((m) => m.t), [0.5, 3]);
    assert.equal(removeMark(marks, -1), marks);
    assert.equal(selectionAfterRemove(3, 1), 1);
    assert.equal(selectionAfterRemove(3, 2), 1);
    assert.equal(selectionAfterRemove(1, 0), -1);
  });
});

describe("marks on the way to the server and back from a draft", () => {
  test("the form sends JSON the server reads", () => {
    const text = serializeMarks([{ t: 1.25, label: "deformation", extra: 1 }, { t: 2 }]);
    assert.equal(text, '[{"t":1.25,"label":"deformation"},{"t":2,"label":""}]');
  });
  test("a draft's marks come back cleaned", () => {
    const raw = [
      { t: 3.2, label: "physics" },
      { t: 0.5 },
      { t: 0.5, label: "deformation" }, // the same millisecond: the first one stays
      { t: -1 },
      { t: 9 },
      { t: "1" },
      { t: 1, label: "melted" },
      null,
    ];
    assert.deepEqual(parseMarks(raw, { duration: DURATION, labels: LABELS }), [
      { t: 0.5, label: "" },
      { t: 3.2, label: "physics" },
    ]);
    assert.deepEqual(parseMarks(JSON.stringify(raw.slice(0, 2)), { duration: DURATION, labels: LABELS }), [
      { t: 0.5, label: "" },
      { t: 3.2, label: "physics" },
    ]);
    assert.deepEqual(parseMarks("{not json", { duration: DURATION }), []);
    assert.deepEqual(parseMarks({ t: 1 }, { duration: DURATION }), []);
    const many = Array.from({ length: 30 }, (_, i) => ({ t: i / 10 }));
    assert.equal(parseMarks(many, { duration: DURATION, max: 20 }).length, 20);
  });
  test("a draft keeps the marks, and a draft without any says nothing of them", () => {
    const base = { answers: {}, comment: "", timeOnPage: 1, watchedReference: 0, watchedGenerated: 0, now: 5 };
    const marks = [{ t: 1.5, label: "physics" }];
    assert.deepEqual(draftRecord({ ...base, marks }).marks, marks);
    assert.equal("marks" in draftRecord(base), false);
  });
});

describe("what is shown", () => {
  test("a mark reads as its time and its label's words", () => {
    const names = { physics: "implausible physics" };
    assert.equal(formatMark({ t: 1.5, label: "physics" }, names), "1.50 s · implausible physics");
    assert.equal(formatMark({ t: 0.25, label: "" }, names), "0.25 s");
    assert.equal(formatMark({ t: 2, label: "wrong_motion" }, names), "2.00 s · wrong_motion");
  });
  test("a tick sits at the moment's share of the master clock", () => {
    assert.equal(tickFraction(1, 4), 0.25);
    assert.equal(tickFraction(5, 4), 1);
    assert.equal(tickFraction(-1, 4), 0);
    assert.equal(tickFraction(1, 0), 0);
    assert.equal(tickFraction(Number.NaN, 4), 0);
  });
});
