/* Rating drafts in the browser's storage: what an annotator chose, typed and watched on a
 * clip, kept across a reload until the rating is stored, the person logs out, or the
 * draft grows too old to trust (the clip may have been rated elsewhere since).
 *
 * Storage is passed in (localStorage in the page, a stand-in under Node); every call
 * survives a storage that is full, disabled or null: the page then works without drafts.
 */

export const DRAFT_PREFIX = "refscore:draft:";
export const DRAFT_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;
export const DRAFT_FIELDS = ["final_state", "clean", "motion", "score"];

export const draftKey = (assignment) => `${DRAFT_PREFIX}${assignment}`;

/** The page's localStorage, or null where the browser refuses it (the calls below
 * then do nothing). */
export function browserStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Whether a draft saved at `draft.saved_at` is still to be restored at `now`. */
export function draftIsFresh(draft, now, maxAge = DRAFT_MAX_AGE_MS) {
  return draft !== null && typeof draft === "object" && Number.isFinite(draft.saved_at) && now - draft.saved_at <= maxAge;
}

/** The draft under `key`, or null; one unreadable or expired is removed. */
export function draftRead(storage, key, now) {
  let text;
  try {
    text = storage.getItem(key);
  } catch {
    return null;
  }
  if (text === null) return null;
  let draft;
  try {
    draft = JSON.parse(text);
  } catch {
    draft = null;
  }
  if (draftIsFresh(draft, now)) return draft;
  draftRemove(storage, key);
  return null;
}

/** Stores `draft`; false when the storage refused it. */
export function draftWrite(storage, key, draft) {
  try {
    storage.setItem(key, JSON.stringify(draft));
    return true;
  } catch {
    return false;
  }
}

export function draftRemove(storage, key) {
  try {
    storage.removeItem(key);
  } catch {
    /* storage disabled: there is nothing to remove */
  }
}

function draftKeys(storage) {
  const keys = [];
  try {
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key && key.startsWith(DRAFT_PREFIX)) keys.push(key);
    }
  } catch {
    /* storage disabled */
  }
  return keys;
}

/** Removes the drafts too old (or unreadable) to restore; returns their keys. */
export function draftsPrune(storage, now) {
  return draftKeys(storage).filter((key) => draftRead(storage, key, now) === null);
}

/** Removes every draft: they belong to the person who logged out. */
export function draftsClear(storage) {
  const keys = draftKeys(storage);
  for (const key of keys) draftRemove(storage, key);
  return keys;
}

/** A draft as stored: the radio values, the comment, the clock and the watched shares,
 * and the break-point marks when there are any to keep (marks.js: [{t, label}]). */
export function draftRecord({ answers, comment, timeOnPage, watchedReference, watchedGenerated, now, marks }) {
  const record = {};
  for (const name of DRAFT_FIELDS) record[name] = answers[name] ?? null;
  return {
    ...record,
    comment,
    ...(marks ? { marks: marks.map(({ t, label }) => ({ t, label })) } : {}),
    time_on_page_s: timeOnPage,
    watched_reference: watchedReference,
    watched_generated: watchedGenerated,
    saved_at: now,
  };
}

/** Seconds the page has been visible, carried over from a draft: a hidden tab does not
 * count as time spent on the clip. Times are `performance.now()` milliseconds. */
export class VisibleClock {
  constructor({ before = 0, visible, now }) {
    this.before = before;
    this.since = visible ? now : null;
  }
  show(now) {
    if (this.since === null) this.since = now;
  }
  hide(now) {
    if (this.since === null) return;
    this.before += (now - this.since) / 1000;
    this.since = null;
  }
  seconds(now) {
    return this.before + (this.since === null ? 0 : (now - this.since) / 1000);
  }
}
