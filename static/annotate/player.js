/* Two videos on one clock: the rating page, and the organizer's read-only reviews of a
 * pair (the clip browser, the agreement report's pair review).
 *
 * The page carries templates/annotate/_player.html inside an element #rate and its data
 * in the json_script "rate-config". With a rating form (#rating-form) the rubric, the
 * drafts and the submit join the player (rating_form.js); without one the page only
 * plays the two clips: no rubric, no draft, no submit, and the rating keys do nothing.
 *
 * The parts: sync.js (the clock's arithmetic), sync_player.js (the two elements on one
 * clock), player_controls.js (controls and playback keys), display.js (what is shown,
 * written only when it changes), rubric.js and drafts.js (the form's rules), marks.js
 * and mark_editor.js (break-point marks: ticks on the scrub bar everywhere, the
 * annotator's own list on the rating page; the reviews show every rater's, read-only).
 */
import { MarkTicks } from "./mark_editor.js";
import { PlayerControls } from "./player_controls.js";
import { RatingForm } from "./rating_form.js";
import { initialMode } from "./sync.js";
import { SyncPlayer } from "./sync_player.js";

const $ = (id) => document.getElementById(id);

// Where a key is text (a comment, a field), it types; the shortcuts wait.
const typing = (el) =>
  el &&
  (el.tagName === "TEXTAREA" ||
    (el.tagName === "INPUT" && !["radio", "range", "checkbox"].includes(el.type)) ||
    el.isContentEditable);

function start() {
  const config = JSON.parse($("rate-config").textContent);
  const player = new SyncPlayer($("video-ref"), $("video-gen"), config);
  const controls = new PlayerControls(player);
  const ticks = new MarkTicks(player, $("mark-ticks"));
  const form = $("rating-form");
  const rating = form ? new RatingForm({ form, config, player, controls, ticks }) : null;
  if (!rating) ticks.show(config.marks || []); // a review: every rater's marks, read-only
  player.setMode(initialMode(config));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (typing(target)) {
      if (event.key === "Escape") target.blur();
      else if (rating && event.key === "Enter" && !event.shiftKey && target === rating.comment) {
        event.preventDefault();
        rating.submit();
      }
      return; // shortcuts are off while typing
    }
    const key = event.key;
    if (target.tagName === "SELECT" && !["Escape", "Enter"].includes(key)) return;
    if (rating?.blocksKey(key)) return event.preventDefault();
    const actions = { ...controls.actions(), ...(rating ? rating.actions(target) : {}) };
    const action = actions[key] || actions[key.toLowerCase?.()];
    if (!action) return;
    event.preventDefault();
    action();
  });

  const frameLoop = () => {
    player.tick();
    requestAnimationFrame(frameLoop);
  };
  requestAnimationFrame(frameLoop);
  rating?.autostart();
  window.refscorePlayer = player; // for the browser tests and for debugging in the console
}

if ($("rate")) start();
