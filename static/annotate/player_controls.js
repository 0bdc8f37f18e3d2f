/* The player's controls (templates/annotate/_player.html) bound to a SyncPlayer: the
 * buttons, the scrub bar, the clocks, speed, sync mode, loop, layout and full screen,
 * and the playback keys. The same on the rating page and on the organizer's read-only
 * reviews. What they show is written only when it changes (see display.js).
 */
import { browserStorage } from "./drafts.js";
import { ChangeGate, clockText, scrubValue, timeText } from "./display.js";
import { gettext } from "./i18n.js";
import { shiftRate } from "./sync.js";

const PLAY_ICON = "M4 2l10 6-10 6z";
const PAUSE_ICON = "M3 2h4v12H3zM9 2h4v12H9z";
const PREFS_KEY = "refscore:player";

const $ = (id) => document.getElementById(id);

function readPrefs() {
  try {
    return JSON.parse(browserStorage()?.getItem(PREFS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

export class PlayerControls {
  constructor(player) {
    this.player = player;
    this.gate = new ChangeGate();
    this.stage = $("stage");
    this.scrub = $("scrub");
    this.time = $("time");
    this.clocks = [
      ["clock-ref", $("clock-ref"), () => player.reference],
      ["clock-gen", $("clock-gen"), () => player.generated],
    ];
    this.playButton = $("btn-play");
    this.loopButton = $("btn-loop");
    this.buffering = $("buffering");
    this.rateSelect = $("rate-select");
    this.syncSelect = $("sync-select");
    this.help = $("help");
    this.prefs = readPrefs();

    this.playButton.addEventListener("click", () => player.toggle());
    $("btn-back").addEventListener("click", () => player.step(-1));
    $("btn-fwd").addEventListener("click", () => player.step(1));
    this.loopButton.addEventListener("click", () => this.toggleLoop());
    $("btn-layout").addEventListener("click", () => this.toggleLayout());
    $("btn-full").addEventListener("click", () => this.toggleFullscreen());
    this.rateSelect.addEventListener("change", (e) => player.setRate(Number(e.target.value)));
    this.syncSelect.addEventListener("change", (e) => player.setMode(e.target.value));
    this.scrub.addEventListener("input", (e) => player.seekFraction(Number(e.target.value) / 1000));
    $("btn-help")?.addEventListener("click", () => this.toggleHelp());
    $("btn-help-close")?.addEventListener("click", () => this.toggleHelp(false));
    for (const el of [player.reference, player.generated]) this.bindVideo(el);
    this.setLayout(this.prefs.layout || "stacked");
    player.onChange(() => this.render());
  }

  /** A click on either video plays or pauses both; a swapped-in video gets it too. */
  bindVideo(el) {
    el.addEventListener("click", () => this.player.owns(el) && this.player.toggle());
  }

  render() {
    const { player, gate } = this;
    const master = player.master;
    const duration = player.duration(master);
    // While the person drags the bar, it is theirs; once let go it follows the clock again.
    if (document.activeElement === this.scrub) gate.forget("scrub");
    else gate.show("scrub", scrubValue(master.currentTime, duration), (v) => (this.scrub.value = v));
    gate.show("time", timeText(master.currentTime, duration), (text) => (this.time.textContent = text));
    for (const [key, node, clip] of this.clocks) {
      const el = clip();
      const text = clockText({ time: el.currentTime, frame: player.frameOf(el), frameCount: player.frameCount(el), fps: player.fps(el) });
      gate.show(key, text, (t) => (node.textContent = t));
    }
    gate.show("playing", player.wantPlaying, (playing) => {
      this.playButton.querySelector("path").setAttribute("d", playing ? PAUSE_ICON : PLAY_ICON);
      this.playButton.setAttribute("aria-label", playing ? gettext("Pause") : gettext("Play"));
    });
    gate.show("loop", player.loop, (loop) => this.loopButton.setAttribute("aria-pressed", String(loop)));
    gate.show("buffering", player.wantPlaying && player.stalled.size > 0, (stalled) => (this.buffering.hidden = !stalled));
    gate.show("rate", String(player.rate), (rate) => (this.rateSelect.value = rate));
    gate.show("mode", player.mode, (mode) => (this.syncSelect.value = mode));
  }

  setLayout(layout) {
    this.stage.classList.toggle("stacked", layout !== "side");
    this.stage.classList.toggle("side", layout === "side");
    this.prefs.layout = layout;
    try {
      browserStorage()?.setItem(PREFS_KEY, JSON.stringify(this.prefs));
    } catch {
      /* storage full or disabled: the layout holds for this page only */
    }
  }
  toggleLayout() {
    this.setLayout(this.stage.classList.contains("side") ? "stacked" : "side");
  }
  toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else this.stage.requestFullscreen?.().catch(() => {});
  }
  toggleLoop() {
    this.player.setLoop(!this.player.loop);
  }
  toggleHelp(show = this.help?.hidden) {
    if (this.help) this.help.hidden = !show;
  }

  /** The playback keys, the same on every page with the player. */
  actions() {
    const player = this.player;
    return {
      " ": () => player.toggle(),
      k: () => player.toggle(),
      ",": () => player.step(-1),
      ".": () => player.step(1),
      ArrowLeft: () => player.seekBy(-1),
      ArrowRight: () => player.seekBy(1),
      Home: () => player.seekMaster(0),
      "[": () => player.setRate(shiftRate(player.rate, -1)),
      "]": () => player.setRate(shiftRate(player.rate, 1)),
      l: () => this.toggleLoop(),
      s: () => player.setMode(player.mode === "time" ? "progress" : "time"),
      v: () => this.toggleLayout(),
      f: () => this.toggleFullscreen(),
      "?": () => this.toggleHelp(),
      h: () => this.toggleHelp(),
      Escape: () => this.toggleHelp(false),
    };
  }
}
