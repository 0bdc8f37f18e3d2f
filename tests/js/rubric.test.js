// The rubric table (static/annotate/rubric.js), as the rating page receives it from the
// server. Expected scores follow the protocol's tree: final state matches? then clean
// (3 or 2); otherwise arm motion matches? (1 or 0).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { RubricError, parseRubric } from "../../static/annotate/rubric.js";

const PROTOCOL = JSON.stringify({
  3: { final_state: true, clean: true, motion: null },
  2: { final_state: true, clean: false, motion: null },
  1: { final_state: false, clean: null, motion: true },
  0: { final_state: false, clean: null, motion: false },
});

describe("reading the table", () => {
  const rubric = parseRubric(PROTOCOL);

  test("the scores, the questions and the one asked first", () => {
    assert.deepEqual(rubric.scores, [0, 1, 2, 3]);
    assert.deepEqual([...rubric.questions].sort(), ["clean", "final_state", "motion"]);
    assert.equal(rubric.root, "final_state");
  });

  test("a score's answers come as the radios' values", () => {
    assert.deepEqual(rubric.answersFor(2), { final_state: "true", clean: "false", motion: null });
    assert.deepEqual(rubric.answersFor(1), { final_state: "false", clean: null, motion: "true" });
  });

  test("an unknown score is refused", () => {
    assert.throws(() => rubric.answersFor(4), RubricError);
  });
});

describe("answers to score", () => {
  const rubric = parseRubric(PROTOCOL);
  const cases = [
    [{ final_state: "true", clean: "true", motion: null }, 3],
    [{ final_state: "true", clean: "false", motion: null }, 2],
    [{ final_state: "false", clean: null, motion: "true" }, 1],
    [{ final_state: "false", clean: null, motion: "false" }, 0],
  ];
  for (const [chosen, score] of cases) {
    test(`${JSON.stringify(chosen)} makes ${score}`, () => assert.equal(rubric.scoreFor(chosen), score));
  }

  test("an incomplete path makes no score", () => {
    assert.equal(rubric.scoreFor({ final_state: null, clean: null, motion: null }), null);
    assert.equal(rubric.scoreFor({ final_state: "true", clean: null, motion: null }), null);
    assert.equal(rubric.scoreFor({ final_state: "false", clean: "true", motion: null }), null);
  });

  test("an answer off the chosen branch does not count", () => {
    assert.equal(rubric.scoreFor({ final_state: "true", clean: "true", motion: "false" }), 3);
    assert.equal(rubric.scoreFor({ final_state: "false", clean: "true", motion: "false" }), 0);
  });

  test("every score's own answers make that score", () => {
    for (const score of rubric.scores) assert.equal(rubric.scoreFor(rubric.answersFor(score)), score);
  });
});

describe("the branches", () => {
  const rubric = parseRubric(PROTOCOL);

  test("a matching final state asks whether it is clean; a mismatch asks about the motion", () => {
    assert.deepEqual(rubric.followUps("true"), ["clean"]);
    assert.deepEqual(rubric.followUps("false"), ["motion"]);
    assert.deepEqual(rubric.followUps(null), []);
  });

  test("y and n answer the first question, then its follow-up", () => {
    assert.equal(rubric.openQuestion(null), "final_state");
    assert.equal(rubric.openQuestion("true"), "clean");
    assert.equal(rubric.openQuestion("false"), "motion");
  });

  test("changing the first answer drops the other branch's answer", () => {
    assert.deepEqual(rubric.offBranch("true"), ["motion"]);
    assert.deepEqual(rubric.offBranch("false"), ["clean"]);
  });

  test("only the first question is on the path before it is answered", () => {
    assert.equal(rubric.isOnPath("final_state", null), true);
    assert.equal(rubric.isOnPath("clean", null), false);
    assert.equal(rubric.isOnPath("clean", "true"), true);
    assert.equal(rubric.isOnPath("motion", "true"), false);
  });
});

describe("a malformed table is refused with the reason", () => {
  const refused = (table, reason) =>
    assert.throws(() => parseRubric(typeof table === "string" ? table : JSON.stringify(table)), (error) => {
      assert.ok(error instanceof RubricError);
      assert.match(error.message, reason);
      return true;
    });

  test("not JSON, or not an object of scores", () => {
    refused("{", /not JSON/);
    refused([1, 2], /object of scores/);
    refused({}, /no score/);
    refused({ three: { final_state: true } }, /not a score/);
    refused({ 1.5: { final_state: true } }, /not a score/);
  });

  test("answers that are not booleans or null", () => {
    refused({ 3: { final_state: "true", clean: true } }, /not true, false or null/);
  });

  test("scores that answer different questions", () => {
    refused({ 3: { final_state: true, clean: true }, 2: { final_state: true, motion: false } }, /answers/);
  });

  test("no question answered for every score", () => {
    refused({ 1: { a: true, b: null }, 0: { a: null, b: false } }, /one question answered for every score/);
  });

  test("two scores the same answers would make", () => {
    refused(
      { 3: { final_state: true, clean: null }, 2: { final_state: true, clean: false } },
      /also make another score/,
    );
  });
});
