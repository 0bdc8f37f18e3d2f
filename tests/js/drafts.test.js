// Rating drafts (static/annotate/drafts.js) in a Map-backed stand-in for localStorage.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DRAFT_MAX_AGE_MS,
  VisibleClock,
  draftIsFresh,
  draftKey,
  draftRead,
  draftRecord,
  draftRemove,
  draftWrite,
  draftsClear,
  draftsPrune,
} from "../../static/annotate/drafts.js";

// The Web Storage interface, kept in a Map; `full` makes setItem refuse, as a full
// storage does.
class MemoryStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
    this.full = false;
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    if (this.full) throw new Error("QuotaExceededError");
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

// Every call throws, as localStorage does where the browser forbids it.
const forbidden = new Proxy({}, { get: () => { throw new Error("SecurityError"); } });

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_750_000_000_000;

describe("keys and expiry", () => {
  test("one key per assignment, under the prefix the logout page clears", () => {
    assert.equal(draftKey(42), "refscore:draft:42");
  });

  test("a draft is kept fourteen days", () => {
    assert.equal(DRAFT_MAX_AGE_MS, 14 * DAY);
    assert.equal(draftIsFresh({ saved_at: NOW - 14 * DAY }, NOW), true);
    assert.equal(draftIsFresh({ saved_at: NOW - 14 * DAY - 1 }, NOW), false);
  });

  test("a draft without a time, or not an object, is not to be trusted", () => {
    assert.equal(draftIsFresh({ score: "3" }, NOW), false);
    assert.equal(draftIsFresh(null, NOW), false);
    assert.equal(draftIsFresh("3", NOW), false);
  });
});

describe("save and restore", () => {
  const record = draftRecord({
    answers: { final_state: "false", motion: "true", score: "1" },
    comment: "arm right, banana gone",
    timeOnPage: 12.5,
    watchedReference: 1,
    watchedGenerated: 0.75,
    now: NOW,
  });

  test("a record holds every answer, the unanswered ones as null", () => {
    assert.deepEqual(record, {
      final_state: "false",
      clean: null,
      motion: "true",
      score: "1",
      comment: "arm right, banana gone",
      time_on_page_s: 12.5,
      watched_reference: 1,
      watched_generated: 0.75,
      saved_at: NOW,
    });
  });

  test("what is written is read back", () => {
    const storage = new MemoryStorage();
    assert.equal(draftWrite(storage, draftKey(7), record), true);
    assert.deepEqual(draftRead(storage, draftKey(7), NOW + DAY), record);
  });

  test("an expired or unreadable draft is not restored, and is removed", () => {
    const storage = new MemoryStorage({
      [draftKey(1)]: JSON.stringify({ ...record, saved_at: NOW - 15 * DAY }),
      [draftKey(2)]: "{not json",
    });
    assert.equal(draftRead(storage, draftKey(1), NOW), null);
    assert.equal(draftRead(storage, draftKey(2), NOW), null);
    assert.equal(storage.length, 0);
  });

  test("a missing draft is null", () => {
    assert.equal(draftRead(new MemoryStorage(), draftKey(3), NOW), null);
  });

  test("a full or forbidden storage loses the draft, not the page", () => {
    const full = new MemoryStorage();
    full.full = true;
    assert.equal(draftWrite(full, draftKey(1), record), false);
    assert.equal(draftWrite(forbidden, draftKey(1), record), false);
    assert.equal(draftRead(forbidden, draftKey(1), NOW), null);
    assert.equal(draftRead(null, draftKey(1), NOW), null);
    draftRemove(forbidden, draftKey(1));
    assert.deepEqual(draftsClear(forbidden), []);
  });
});

describe("clean-up", () => {
  const fresh = JSON.stringify({ saved_at: NOW - DAY });
  const stale = JSON.stringify({ saved_at: NOW - 30 * DAY });

  test("pruning removes the drafts too old to restore and nothing else", () => {
    const storage = new MemoryStorage({
      [draftKey(1)]: fresh,
      [draftKey(2)]: stale,
      [draftKey(3)]: "garbage",
      "refscore:player": stale,
    });
    assert.deepEqual(draftsPrune(storage, NOW).sort(), [draftKey(2), draftKey(3)]);
    assert.deepEqual([...storage.map.keys()].sort(), [draftKey(1), "refscore:player"]);
  });

  test("logging out clears every draft and keeps the player's layout", () => {
    const storage = new MemoryStorage({ [draftKey(1)]: fresh, [draftKey(2)]: stale, "refscore:player": "{}" });
    assert.deepEqual(draftsClear(storage).sort(), [draftKey(1), draftKey(2)]);
    assert.deepEqual([...storage.map.keys()], ["refscore:player"]);
  });
});

describe("time on the page", () => {
  test("counts visible time only, carried over from a draft", () => {
    const clock = new VisibleClock({ before: 10, visible: true, now: 1000 });
    assert.equal(clock.seconds(3000), 12);
    clock.hide(4000);
    assert.equal(clock.seconds(60_000), 13);
    clock.show(70_000);
    assert.equal(clock.seconds(71_500), 14.5);
  });

  test("a page opened in a hidden tab starts counting when shown", () => {
    const clock = new VisibleClock({ visible: false, now: 0 });
    assert.equal(clock.seconds(5000), 0);
    clock.show(5000);
    clock.show(6000); // a second 'visible' does not restart the count
    assert.equal(clock.seconds(7000), 2);
  });
});
