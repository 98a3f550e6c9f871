// What the browser tests emit and how they check it: ticks (`counter.tick` events carrying
// a run-wide unique number) emitted over HTTP, and the tally of what a page received.
import { emitVia, sleep } from "../server.mjs";

/** Orders two event ids `<ms>-<seq>`. */
export function compareIds(a, b) {
  const [x, y] = [a, b].map((id) => id.split("-").map(BigInt));
  return x[0] === y[0] ? Number(x[1] - y[1]) : Number(x[0] - y[0]);
}

/**
 * Ticks emitted over HTTP: `emit(room)` one now; `flow(rooms, perSecond)` a steady flow
 * round-robin over `rooms` until `stop()`. `sent` lists { room, n, id } in emit order.
 */
export class Ticks {
  /** `token`: the server wants `Authorization: Bearer <token>`. */
  constructor(server, { token } = {}) {
    this.server = server;
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
    this.sent = [];
    this.next = 1;
  }

  async emit(room) {
    const n = this.next++;
    const id = await emitVia(this.server.url, room, "counter.tick", n, this.headers);
    this.sent.push({ room, n, id });
    return id;
  }

  /** Emits `perSecond` ticks a second (at most 64 in flight) until `stop()`. */
  flow(rooms, perSecond) {
    let running = true;
    const pending = new Set();
    const done = (async () => {
      const start = Date.now();
      for (let i = 0; running; i++) {
        const due = start + (i * 1000) / perSecond;
        if (due > Date.now()) await sleep(due - Date.now());
        if (pending.size >= 64) await Promise.race(pending);
        const emit = this.emit(rooms[i % rooms.length]).finally(() => pending.delete(emit));
        pending.add(emit);
      }
      await Promise.all(pending);
    })();
    return {
      stop: async () => {
        running = false;
        await done;
      },
    };
  }

  /** The ticks of `room`, in id order. */
  of(room) {
    return this.sent.filter((tick) => tick.room === room).sort((a, b) => compareIds(a.id, b.id));
  }
}

/**
 * Compares what a page received with what was sent to `rooms`: duplicates (deliveries of
 * an event it already had), lost (sent, never received), reordered (received after a
 * later event of its channel), foreign (never sent to that channel).
 */
export function tally(ticks, rooms, got) {
  const byNumber = new Map(ticks.sent.map((tick) => [tick.n, tick]));
  const result = { delivered: got.length, duplicates: 0, lost: 0, reordered: 0, foreign: 0 };
  const seen = new Set();
  const last = new Map();
  for (const { channel, data } of got) {
    const tick = byNumber.get(data);
    if (tick === undefined || tick.room !== channel) {
      result.foreign++;
      continue;
    }
    if (seen.has(data)) {
      result.duplicates++;
      continue;
    }
    seen.add(data);
    const before = last.get(channel);
    if (before !== undefined && compareIds(tick.id, before) < 0) result.reordered++;
    else last.set(channel, tick.id);
  }
  for (const room of rooms) for (const tick of ticks.of(room)) if (!seen.has(tick.n)) result.lost++;
  return result;
}
