// The scripts' translation helpers (static/annotate/i18n.js) where Django's JavaScript
// catalog is absent, as in Node: English as written, placeholders filled.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { format, gettext, pgettext } from "../../static/annotate/i18n.js";
import { statusWord } from "../../static/annotate/poller.js";

describe("without the catalog", () => {
  test("gettext and pgettext give the English text", () => {
    assert.equal(gettext("Submit & next"), "Submit & next");
    assert.equal(pgettext("status", "queued"), "queued");
  });

  test("format fills each named placeholder, as Django's interpolate does", () => {
    assert.equal(format("%(done)s of %(total)s rated in Task %(number)s", { done: 2, total: 5, number: 1 }), "2 of 5 rated in Task 1");
    assert.equal(format("Uploading: %(percent)s%", { percent: 40 }), "Uploading: 40%");
    assert.equal(format("no placeholder", {}), "no placeholder");
  });

  test("a job's status word: the known ones through the catalog, others as sent", () => {
    assert.equal(statusWord("running"), "running");
    assert.equal(statusWord("paused"), "paused");
  });
});
