// What was emitted and what a subscription received, per channel, and the check that
// every emitted event arrived exactly once and in id order.
import assert from "node:assert/strict";
import { compareIds } from "../packages/client/dist/utils.js";
import { emitVia, sleep } from "./server.mjs";

export class Ledger {
  emitted = new Map();
  received = new Map();

  /** Records an acknowledged emit. */
  sent(channel, id) {
    if (!this.emitted.has(channel)) this.emitted.set(channel, []);
    this.emitted.get(channel).push(id);
  }

  /** The subscription's callback. */
  onEvent = (event) => {
    if (!this.received.has(event.channel)) this.received.set(event.channel, []);
    this.received.get(event.channel).push(event.id);
  };

  /** How many events arrived twice, and how many emitted never arrived. */
  counts() {
    let duplicates = 0;
    let lost = 0;
    for (const [channel, ids] of this.emitted) {
      const got = this.received.get(channel) ?? [];
      duplicates += got.length - new Set(got).size;
      const seen = new Set(got);
      lost += ids.filter((id) => !seen.has(id)).length;
    }
    return { duplicates, lost };
  }

  /** Every channel received exactly what was emitted to it, in id order. */
  assertExactlyOnce() {
    for (const [channel, ids] of this.emitted) {
      const got = this.received.get(channel) ?? [];
      const { duplicates, lost } = this.counts();
      assert.deepEqual(got, ids, `${channel}: ${got.length} received, ${ids.length} emitted (${duplicates} duplicates, ${lost} lost in all)`);
      for (let i = 1; i < got.length; i++) assert.ok(compareIds(got[i - 1], got[i]) < 0, `${channel}: out of order at ${i}`);
    }
  }

  /** Whether everything emitted arrived. */
  complete() {
    return [...this.emitted].every(([channel, ids]) => (this.received.get(channel) ?? []).length >= ids.length);
  }
}

/**
 * Emits `counter.tick` events round-robin over `channels` at about `perSecond` through
 * `url()` until `stop()`; emits refused while the server is down are retried with the same
 * idempotency key until stored. Resolves `done` once stopped.
 */
export function emitLoop(url, channels, perSecond, ledger) {
  let running = true;
  let n = 0;
  // A retried emit (the server died before it answered) is stored once.
  const key = `loop-${process.pid}-${Date.now()}`;
  const done = (async () => {
    const started = Date.now();
    while (running) {
      const channel = channels[n % channels.length];
      for (;;) {
        try {
          ledger.sent(channel, await emitVia(url(), channel, "counter.tick", n, { "idempotency-key": `${key}-${n}` }));
          break;
        } catch {
          if (!running) return;
          await sleep(50);
        }
      }
      n++;
      const due = started + (n * 1000) / perSecond;
      await sleep(Math.max(0, due - Date.now()));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
    count: () => n,
  };
}
