/* Break-point marks as data: the moments where the generated clip departs from the
 * reference, each {t, label}. `t` is seconds on the generated clip's own timeline (what
 * the synchronized clock shows on it), rounded to the millisecond; `label` one of the
 * rubric's words the page is given (deformation, physics, ...) or "" for none.
 *
 * The same rules as the server's (annotate/marks.py): sorted by time, one mark per
 * millisecond, at most `max`, each within the clip. Every function returns new arrays
 * and never touches the DOM, so `node --test tests/js/` checks them.
 */

export const DEFAULT_MAX_MARKS = 20;

const round3 = (t) => Math.round(t * 1000) / 1000;
const byTime = (a, b) => a.t - b.t;

/** The moment `t` as a mark's time: clamped to [0, duration], to the millisecond. */
export function markTime(t, duration) {
  const end = Number.isFinite(duration) && duration > 0 ? duration : Infinity;
  const clamped = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), end);
  // Rounding may step past the clip's end by under half a millisecond: stay inside it.
  const rounded = round3(clamped);
  return rounded > end ? Math.floor(end * 1000) / 1000 : rounded;
}

/** Adds a mark at `t`: {marks, index, added}. A mark at the same millisecond is not
 * doubled (its index comes back, added false); a full list refuses (index -1). */
export function addMark(marks, t, { duration, max = DEFAULT_MAX_MARKS, label = "" } = {}) {
  const at = markTime(t, duration);
  const same = marks.findIndex((mark) => mark.t === at);
  if (same >= 0) return { marks, index: same, added: false };
  if (marks.length >= max) return { marks, index: -1, added: false };
  const next = [...marks, { t: at, label }].sort(byTime);
  return { marks: next, index: next.findIndex((mark) => mark.t === at), added: true };
}

/** The marks without the one at `index` (unchanged when there is none). */
export function removeMark(marks, index) {
  if (!(index >= 0 && index < marks.length)) return marks;
  return marks.filter((_, i) => i !== index);
}

/** The marks with `label` on the one at `index`. */
export function setLabel(marks, index, label) {
  if (!(index >= 0 && index < marks.length)) return marks;
  return marks.map((mark, i) => (i === index ? { ...mark, label } : mark));
}

/** The next label for the mark at `index`: none, then each of `labels` in turn, then
 * none again. */
export function cycleLabel(marks, index, labels) {
  if (!(index >= 0 && index < marks.length)) return marks;
  const order = ["", ...labels.filter((label) => label !== "")];
  const now = order.indexOf(marks[index].label);
  return setLabel(marks, index, order[(now + 1) % order.length]);
}

/** Which mark stays selected after the one at `index` is removed: the one after it,
 * else the one before, else none (-1). */
export function selectionAfterRemove(length, index) {
  if (length <= 1) return -1;
  return Math.min(index, length - 2);
}

/** The marks as the form sends them: JSON, [{"t": 1.25, "label": "deformation"}]. */
export function serializeMarks(marks) {
  return JSON.stringify(marks.map(({ t, label }) => ({ t, label: label || "" })));
}

/** Marks read back from a draft or the page (untrusted): only well-formed ones, within
 * the clip, with a known label, one per millisecond, sorted, at most `max`. */
export function parseMarks(value, { duration, labels, max = DEFAULT_MAX_MARKS } = {}) {
  let raw = value;
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(raw)) return [];
  const known = new Set(["", ...(labels || [])]);
  const end = Number.isFinite(duration) && duration > 0 ? duration : Infinity;
  const seen = new Map();
  for (const mark of raw) {
    if (mark === null || typeof mark !== "object" || !Number.isFinite(mark.t)) continue;
    if (mark.t < 0 || mark.t > end) continue;
    const label = typeof mark.label === "string" ? mark.label : "";
    if (!known.has(label)) continue;
    const t = markTime(mark.t, duration);
    if (!seen.has(t)) seen.set(t, { t, label });
  }
  return [...seen.values()].sort(byTime).slice(0, max);
}

/** Seconds as the marks list shows them: "1.25 s". */
export function markTimeText(t) {
  return `${t.toFixed(2)} s`;
}

/** A mark as one line: "1.25 s · deformation"; `names` maps labels to the words shown. */
export function formatMark(mark, names = {}) {
  const name = mark.label ? names[mark.label] || mark.label : "";
  return name ? `${markTimeText(mark.t)} · ${name}` : markTimeText(mark.t);
}

/** Where a tick sits on the scrub bar, as a share of it: the mark's moment on the master
 * clock over the master's length, within [0, 1]. */
export function tickFraction(masterTime, masterDuration) {
  if (!(masterDuration > 0) || !Number.isFinite(masterTime)) return 0;
  return Math.min(1, Math.max(0, masterTime / masterDuration));
}
