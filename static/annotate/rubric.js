/* The rubric's tree as data: which answers make which score.
 *
 * The table comes from the page (json_script "rubric-answers"), written by the server
 * from the same definition that checks a submitted rating, so the form and the server
 * cannot disagree. It maps each score to its answers, booleans or null (a question not
 * asked on that branch): {"3": {"final_state": true, "clean": true, "motion": null}, ...}.
 * The form's radios carry the strings "true" and "false"; this module speaks those.
 */

const asRadio = (value) => (value === null ? null : String(value));

export class RubricError extends Error {
  constructor(message) {
    super(`rubric-answers: ${message}`);
    this.name = "RubricError";
  }
}

export class Rubric {
  /** `rows`: score -> {question: "true" | "false" | null}. Use `parseRubric` for page data. */
  constructor(rows) {
    this.rows = rows;
    this.scores = [...rows.keys()].sort((a, b) => a - b);
    this.questions = Object.keys(rows.get(this.scores[0]));
    // The question asked first is the one every branch answers.
    const roots = this.questions.filter((q) => this.scores.every((s) => rows.get(s)[q] !== null));
    if (roots.length !== 1) throw new RubricError(`expected one question answered for every score, found ${roots.length}`);
    this.root = roots[0];
  }

  /** The answers that make `score`, as radio values. */
  answersFor(score) {
    const answers = this.rows.get(score);
    if (!answers) throw new RubricError(`no score ${score}`);
    return answers;
  }

  /** The questions asked once the first one is answered `rootValue`. */
  followUps(rootValue) {
    if (rootValue === null) return [];
    const asked = new Set();
    for (const answers of this.rows.values()) {
      if (answers[this.root] !== rootValue) continue;
      for (const q of this.questions) if (q !== this.root && answers[q] !== null) asked.add(q);
    }
    return this.questions.filter((q) => asked.has(q));
  }

  /** Whether `question` is asked, given the first question's answer. */
  isOnPath(question, rootValue) {
    return question === this.root || this.followUps(rootValue).includes(question);
  }

  /** The questions whose answers go when the first one is answered `rootValue`: they
   * belong to a judgement no longer held. */
  offBranch(rootValue) {
    return this.questions.filter((q) => !this.isOnPath(q, rootValue));
  }

  /** The question that y and n answer: the first one until it is answered, then its
   * follow-up on that branch. */
  openQuestion(rootValue) {
    return rootValue === null ? this.root : this.followUps(rootValue)[0];
  }

  /** The score the chosen answers make, or null while the path is incomplete. Answers
   * off the chosen branch do not count. */
  scoreFor(chosen) {
    return this.scoresMatching(chosen)[0] ?? null;
  }

  /** Every score whose answers the chosen ones include. */
  scoresMatching(chosen) {
    return this.scores.filter((score) => {
      const answers = this.rows.get(score);
      return this.questions.every((q) => answers[q] === null || chosen[q] === answers[q]);
    });
  }
}

/** The rubric from the page's JSON text; a malformed table is refused with the reason. */
export function parseRubric(text) {
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RubricError(`not JSON (${error.message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new RubricError("expected an object of scores");
  const rows = new Map();
  let questions = null;
  for (const [key, answers] of Object.entries(raw)) {
    const score = Number(key);
    if (!Number.isInteger(score) || String(score) !== key) throw new RubricError(`${JSON.stringify(key)} is not a score`);
    if (answers === null || typeof answers !== "object" || Array.isArray(answers)) throw new RubricError(`score ${key}: expected an object of answers`);
    const names = Object.keys(answers).sort();
    if (questions === null) questions = names;
    else if (names.join() !== questions.join()) throw new RubricError(`score ${key} answers ${names.join(", ")}, not ${questions.join(", ")}`);
    const row = {};
    for (const name of Object.keys(answers)) {
      const value = answers[name];
      if (value !== true && value !== false && value !== null) throw new RubricError(`score ${key}, ${name}: ${JSON.stringify(value)} is not true, false or null`);
      row[name] = asRadio(value);
    }
    rows.set(score, row);
  }
  if (rows.size === 0) throw new RubricError("no score");
  const rubric = new Rubric(rows);
  for (const score of rubric.scores) {
    if (rubric.scoresMatching(rubric.answersFor(score)).length !== 1) throw new RubricError(`the answers of score ${score} also make another score`);
  }
  return rubric;
}
