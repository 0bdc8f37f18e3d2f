/* "Report a problem with this pair": the rating page's way to flag a broken pair (does
 * not play, wrong reference, black frames, other) instead of scoring it. The report goes
 * to the organizer and the next clip follows (a plain form post: the server says what
 * happened on the next page).
 *
 * Keys: p opens the box with the first reason focused; the arrows choose a reason, Tab
 * reaches the words and the button, Enter sends, Escape closes. While the box holds the
 * focus the page's shortcuts wait, so that no key scores or plays by mistake.
 */
import { gettext } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export class ProblemReport {
  constructor() {
    this.box = $("problem");
    this.form = $("problem-form");
    this.text = $("problem-text");
    this.error = $("problem-error");
    if (!this.form) return;
    this.box.addEventListener("keydown", (event) => this.onKey(event));
    this.form.addEventListener("input", () => this.flash(""));
    this.form.addEventListener("submit", (event) => {
      const problem = this.check();
      if (problem) {
        event.preventDefault();
        this.flash(problem);
      }
    });
  }

  get available() {
    return Boolean(this.form) && !this.box.hidden;
  }

  reasons() {
    return [...this.form.querySelectorAll('input[name="reason"]')];
  }

  /** What stops the report from going, or "" when it may go. */
  check() {
    const chosen = this.reasons().find((radio) => radio.checked);
    if (!chosen) return gettext("Choose what is wrong with the pair.");
    if (chosen.value === "other" && !this.text.value.trim()) return gettext("Say in a few words what is wrong.");
    return "";
  }

  flash(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }

  open() {
    if (!this.available) return;
    this.box.open = true;
    (this.reasons().find((radio) => radio.checked) || this.reasons()[0])?.focus();
  }

  close() {
    this.box.open = false;
    this.flash("");
    document.activeElement?.blur?.();
  }

  onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    event.stopPropagation(); // the page's shortcuts wait while the report is being written
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    } else if (event.target.tagName === "SUMMARY") {
      // Enter and Space open and close the box, as on any summary.
    } else if (event.key === "Enter" && !(event.target === this.text && event.shiftKey)) {
      event.preventDefault();
      this.form.requestSubmit();
    }
  }

  /** The next pair, swapped in without a page load: a closed, empty box posting for it. */
  reset(action, available) {
    if (!this.form) return;
    this.form.action = action;
    this.form.reset();
    this.flash("");
    this.box.open = false;
    this.box.hidden = !available;
  }
}
