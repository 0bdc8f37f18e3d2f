// The login page after signing out: rating drafts belong to the person who left, so the
// next person on this browser does not find them.
import { browserStorage, draftsClear } from "./drafts.js";

draftsClear(browserStorage());
