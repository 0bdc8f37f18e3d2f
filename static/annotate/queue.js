// The queue page after a rating was saved: that assignment's draft is no longer needed.
import { browserStorage, draftKey, draftRemove, draftsPrune } from "./drafts.js";

const cleared = document.getElementById("cleared-draft");
if (cleared) draftRemove(browserStorage(), draftKey(JSON.parse(cleared.textContent)));
draftsPrune(browserStorage(), Date.now());
