// SyncPlayer (static/annotate/sync_player.js) on two stand-in media elements.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SyncPlayer } from "../../static/annotate/sync_player.js";
import { StandInVideo } from "./media_stand_in.js";

const close = (actual, expected, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

function pair({ ref = 4, gen = 4, fps = 24 } = {}) {
  const reference = new StandInVideo(ref);
  const generated = new StandInVideo(gen);
  const info = {
    reference: { duration_s: ref, fps, frame_count: Math.round(ref * fps) },
    generated: { duration_s: gen, fps, frame_count: Math.round(gen * fps) },
  };
  return { player: new SyncPlayer(reference, generated, info), reference, generated };
}

describe("playing on one clock", () => {
  test("play starts both at the chosen rate; pause stops both and aligns the follower", () => {
    const { player, reference, generated } = pair();
    player.setRate(1.5);
    player.play();
    assert.equal(player.wantPlaying, true);
    assert.deepEqual([reference.paused, generated.paused], [false, false]);
    assert.deepEqual([reference.playbackRate, generated.playbackRate], [1.5, 1.5]);
    reference.advance(1.2);
    generated.advance(1.1);
    player.pause();
    assert.deepEqual([reference.paused, generated.paused], [true, true]);
    assert.equal(generated.currentTime, 1.2);
  });

  test("a follower slightly behind is sped up, far behind is moved", () => {
    const { player, reference, generated } = pair();
    player.play();
    reference.advance(1.0);
    generated.advance(0.9); // 0.1 s behind: gain 2 makes the rate 1.2
    player.tick();
    close(generated.playbackRate, 1.2);
    assert.equal(generated.currentTime, 0.9);
    reference.advance(0.5); // now 0.6 s behind: past the jump threshold
    player.tick();
    assert.equal(generated.currentTime, 1.5);
    assert.equal(generated.playbackRate, 1);
  });

  test("a follower back in step returns to its base rate", () => {
    const { player, reference, generated } = pair();
    player.play();
    reference.advance(1.0);
    generated.advance(1.1);
    player.tick();
    close(generated.playbackRate, 0.8);
    generated.advance(-0.1);
    player.tick();
    assert.equal(generated.playbackRate, 1);
  });

  test("nothing is corrected while paused", () => {
    const { player, reference, generated } = pair();
    reference.advance(1);
    player.tick();
    assert.deepEqual(generated.seeks, []);
    assert.equal(generated.playbackRate, 1);
  });

  test("by time the longer clip is the master and the shorter one holds its last frame", () => {
    const { player, reference, generated } = pair({ ref: 2, gen: 3 });
    assert.equal(player.master, generated);
    player.play();
    generated.advance(2.5);
    reference.advance(2.0);
    reference.pause();
    player.tick();
    assert.equal(reference.paused, true, "a finished follower is not restarted");
  });

  test("by progress the reference drives and the follower is stretched onto it", () => {
    const { player, reference, generated } = pair({ ref: 2, gen: 4 });
    player.setMode("progress");
    assert.equal(player.master, reference);
    assert.equal(generated.playbackRate, 2);
    player.seekMaster(0.5);
    assert.equal(generated.currentTime, 1);
  });
});

describe("seeks", () => {
  test("a seek on either clip from outside the player moves the other", () => {
    const { player, reference, generated } = pair({ ref: 2, gen: 4 });
    player.setMode("progress");
    generated.currentTime = 2; // as native controls or a script would
    assert.equal(reference.currentTime, 1);
    reference.currentTime = 0.5;
    assert.equal(generated.currentTime, 1);
  });

  test("a frame step pauses both and lands both in the middle of the next frame", () => {
    const { player, reference, generated } = pair({ fps: 12 });
    player.play();
    player.step(1);
    assert.equal(player.wantPlaying, false);
    close(reference.currentTime, 1.5 / 12);
    close(generated.currentTime, 1.5 / 12);
    assert.equal(player.frameOf(reference), player.frameOf(generated));
  });

  test("play from the end starts over", () => {
    const { player, reference } = pair();
    player.seekMaster(4);
    player.play();
    assert.equal(reference.currentTime, 0);
  });
});

describe("stalls, loop and swap", () => {
  test("a stalled clip pauses the other until it can play again", () => {
    const { player, reference, generated } = pair();
    player.play();
    generated.fire("waiting");
    assert.equal(reference.paused, true);
    assert.equal(player.stalled.size, 1);
    generated.paused = true;
    generated.fire("canplay");
    assert.equal(player.stalled.size, 0);
    assert.deepEqual([reference.paused, generated.paused], [false, false]);
  });

  test("a stall while paused is ignored", () => {
    const { player, generated } = pair();
    generated.fire("waiting");
    assert.equal(player.stalled.size, 0);
  });

  test("at the master's end a looping pair starts over, otherwise it stops", () => {
    const { player, reference, generated } = pair();
    player.setLoop(true);
    player.play();
    reference.time = 4;
    reference.fire("ended");
    assert.equal(player.wantPlaying, true);
    assert.equal(reference.currentTime, 0);
    player.setLoop(false);
    reference.time = 4;
    reference.fire("ended");
    assert.equal(player.wantPlaying, false);
    assert.equal(generated.paused, true);
  });

  test("after a swap the old elements' events no longer reach the player", () => {
    const { player, reference, generated } = pair();
    const next = [new StandInVideo(3), new StandInVideo(3)];
    const info = { duration_s: 3, fps: 24, frame_count: 72 };
    player.setRate(2);
    player.swap(next[0], next[1], { reference: info, generated: info });
    assert.equal(player.rate, 1);
    assert.equal(player.reference, next[0]);
    player.play();
    generated.currentTime = 2.5; // the old pair
    assert.equal(next[0].currentTime, 0);
    reference.fire("waiting");
    assert.equal(player.stalled.size, 0);
  });

  test("listeners hear every change and every tick", () => {
    const { player } = pair();
    let heard = 0;
    player.onChange(() => (heard += 1));
    player.tick();
    player.setRate(0.5);
    assert.equal(heard, 2);
  });

  test("watched is the share of the clip played", () => {
    const { player, reference } = pair();
    reference.playedRanges = [[0, 1], [2, 3]];
    assert.equal(player.watched(reference), 0.5);
  });
});
