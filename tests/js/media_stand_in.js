// A stand-in for an HTMLMediaElement under Node: the properties and events SyncPlayer
// uses, with time moved by the test instead of by a decoder.
export class StandInVideo extends EventTarget {
  constructor(duration) {
    super();
    this.duration = duration;
    this.time = 0;
    this.paused = true;
    this.ended = false;
    this.seeking = false;
    this.playbackRate = 1;
    this.playedRanges = [];
    this.seeks = [];
  }
  get currentTime() {
    return this.time;
  }
  // Like a browser: setting the time is a seek, announced by a 'seeking' event.
  set currentTime(t) {
    this.time = t;
    this.seeks.push(t);
    this.dispatchEvent(new Event("seeking"));
  }
  get played() {
    const ranges = this.playedRanges;
    return { length: ranges.length, start: (i) => ranges[i][0], end: (i) => ranges[i][1] };
  }
  play() {
    this.paused = false;
    return Promise.resolve();
  }
  pause() {
    this.paused = true;
  }
  // Time passing while playing, without a seek.
  advance(seconds) {
    this.time += seconds;
  }
  fire(type) {
    this.dispatchEvent(new Event(type));
  }
}
