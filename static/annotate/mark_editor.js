/* Break-point marks on the page: ticks on the shared player's scrub bar (every page with
 * the player), and the rating page's list of the annotator's own marks.
 *
 * The rules are marks.js's; here they meet the DOM. Keys (rating page, through
 * rating_form.js): m marks the moment the synchronized clock shows, t gives the selected
 * mark its next label, x removes it. The list offers the same by Tab: each mark's time
 * (a button that seeks there), its label (a select) and a remove button.
 */
import { ChangeGate } from "./display.js";
import { format, gettext } from "./i18n.js";
import {
  addMark,
  cycleLabel,
  formatMark,
  markTimeText,
  parseMarks,
  removeMark,
  selectionAfterRemove,
  serializeMarks,
  setLabel,
  tickFraction,
} from "./marks.js";

const $ = (id) => document.getElementById(id);

/** Ticks on the scrub bar, one per mark, where the mark's moment falls on the master
 * clock; redrawn when the marks, the sync mode or the clips' lengths change. */
export class MarkTicks {
  constructor(player, box) {
    this.player = player;
    this.box = box;
    this.marks = [];
    this.selected = -1;
    this.gate = new ChangeGate();
    if (box) player.onChange(() => this.render());
  }

  show(marks, selected = -1) {
    this.marks = marks;
    this.selected = selected;
    this.render();
  }

  render() {
    if (!this.box) return;
    const { player } = this;
    const master = player.master;
    const length = player.duration(master);
    const places = this.marks.map((mark) => tickFraction(player.map(player.generated, master, mark.t), length));
    const key = JSON.stringify([places, this.selected, this.marks.map((mark) => mark.title || mark.label)]);
    this.gate.show("ticks", key, () => {
      const ticks = this.marks.map((mark, i) => {
        const tick = document.createElement("span");
        tick.className = i === this.selected ? "tick selected" : "tick";
        tick.dataset.t = String(mark.t);
        tick.title = mark.title || mark.text || markTimeText(mark.t);
        // The CSSOM, not a style attribute: the page's CSP forbids inline styles.
        tick.style.left = `${(places[i] * 100).toFixed(3)}%`;
        tick.addEventListener("click", () => player.seekMaster(player.map(player.generated, player.master, mark.t)));
        return tick;
      });
      this.box.replaceChildren(...ticks);
      this.box.hidden = ticks.length === 0;
    });
  }
}

/** The annotator's own marks on the rating page: the list, the ticks, the hidden field. */
export class MarkEditor {
  constructor({ player, ticks, config, onChange }) {
    this.player = player;
    this.ticks = ticks;
    this.onChange = onChange;
    this.list = $("mark-list");
    this.empty = $("marks-empty");
    this.status = $("marks-status");
    this.field = $("f-marks");
    this.marks = [];
    this.selected = -1;
    this.configure(config);
  }

  /** The clip's facts (a new page, or the next pair swapped in): its length, the labels,
   * the cap, and the marks it starts with (the stored rating's, else none). */
  configure(config) {
    this.locked = Boolean(config.locked);
    this.duration = config.generated.duration_s;
    this.labels = (config.mark_labels || []).filter((choice) => choice.value !== "");
    this.choices = config.mark_labels || [];
    this.names = Object.fromEntries(this.choices.map((choice) => [choice.value, choice.name]));
    this.max = config.max_marks || 20;
    this.set(this.read(config.marks), -1, { quiet: true });
  }

  read(value) {
    return parseMarks(value, { duration: this.duration, labels: this.labels.map((c) => c.value), max: this.max });
  }

  /** The moment of the synchronized clock, on the generated clip's timeline. */
  clockTime() {
    const { player } = this;
    const master = player.master;
    return player.map(master, player.generated, master.currentTime);
  }

  add() {
    if (this.locked) return this.tell(gettext("This campaign takes no ratings now."));
    const result = addMark(this.marks, this.clockTime(), { duration: this.duration, max: this.max });
    if (result.index < 0) {
      return this.tell(format(gettext("At most %(max)s marks: remove one first (x)."), { max: this.max }));
    }
    this.set(result.marks, result.index);
    const mark = result.marks[result.index];
    const text = result.added ? gettext("Marked %(when)s. t labels it, x removes it.") : gettext("Already marked: %(when)s.");
    this.tell(format(text, { when: markTimeText(mark.t) }));
  }

  cycle() {
    if (this.locked || this.selected < 0) return this.tell(gettext("No mark selected: press m to mark the moment."));
    this.set(cycleLabel(this.marks, this.selected, this.labels.map((c) => c.value)), this.selected);
    this.tell(formatMark(this.marks[this.selected], this.names));
  }

  remove(index = this.selected) {
    if (this.locked || index < 0) return this.tell(gettext("No mark selected: press m to mark the moment."));
    const gone = this.marks[index];
    this.set(removeMark(this.marks, index), selectionAfterRemove(this.marks.length, index));
    this.tell(format(gettext("Mark at %(when)s removed."), { when: markTimeText(gone.t) }));
  }

  /** The new marks everywhere: the list, the ticks, the form's field, the draft. */
  set(marks, selected, { quiet = false } = {}) {
    this.marks = marks;
    this.selected = selected;
    this.field.value = serializeMarks(marks);
    this.renderList();
    this.ticks.show(
      marks.map((mark) => ({ ...mark, title: formatMark(mark, this.names) })),
      selected,
    );
    if (!quiet) this.onChange?.();
  }

  tell(text) {
    if (this.status) this.status.textContent = text;
  }

  renderList() {
    const items = this.marks.map((mark, index) => this.item(mark, index));
    this.list.replaceChildren(...items);
    this.empty.hidden = items.length > 0;
  }

  item(mark, index) {
    const li = document.createElement("li");
    li.className = index === this.selected ? "mark selected" : "mark";
    const time = document.createElement("button");
    time.type = "button";
    time.className = "link-btn mark-time";
    time.textContent = markTimeText(mark.t);
    time.title = gettext("Go to this moment");
    time.disabled = this.locked;
    time.addEventListener("click", () => {
      this.select(index);
      this.player.pause();
      this.player.seekMaster(this.player.map(this.player.generated, this.player.master, mark.t));
    });
    const label = document.createElement("select");
    label.className = "mark-label";
    label.setAttribute("aria-label", format(gettext("What breaks at %(when)s"), { when: markTimeText(mark.t) }));
    for (const choice of this.choices) label.append(new Option(choice.name, choice.value, false, choice.value === mark.label));
    label.disabled = this.locked;
    label.addEventListener("focus", () => this.select(index));
    label.addEventListener("change", () => this.set(setLabel(this.marks, index, label.value), index));
    // Enter or Escape on the select hands the keys back to the page (and sends nothing).
    label.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        label.blur();
      }
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-btn mark-remove";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", format(gettext("Remove the mark at %(when)s"), { when: markTimeText(mark.t) }));
    remove.disabled = this.locked;
    remove.addEventListener("click", () => {
      this.remove(index);
      // The list was drawn anew: the focus goes on to the mark now selected, if any.
      const next = this.list.querySelector("li.selected .mark-time");
      if (next) next.focus();
    });
    li.append(time, " ", label, " ", remove);
    return li;
  }

  /** Selects a mark without changing any (focus or a click on it in the list). */
  select(index) {
    if (index === this.selected) return;
    this.selected = index;
    for (const [i, li] of [...this.list.children].entries()) li.classList.toggle("selected", i === index);
    this.ticks.show(this.ticks.marks, index);
  }
}
