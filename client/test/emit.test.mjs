// Emits through a Redis frozen with SIGSTOP: the server answers 504 or 503, the client
// retries with the call's Idempotency-Key, and once Redis is back each emit is stored once.
// Emits go one at a time in call order (a refused one does not stop the next), and the
// queue's size bound refuses at once without losing what waits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../packages/client/dist/index.js";
import { compareIds } from "../packages/client/dist/utils.js";
import { sleep, startPrivateRedis, startServer } from "./server.mjs";

test("emits through a Redis frozen with SIGSTOP are retried with their key and stored once", async () => {
  const redis = await startPrivateRedis();
  // Redis answers within 500 ms or the server gives up on the emit (504: it may be stored).
  const server = await startServer({ redis: redis.url, commandTimeoutMs: 500 });
  const attempts = [];
  const client = createClient({
    url: server.url,
    backoff: { minMs: 200, maxMs: 1_000 },
    emitTimeoutMs: 30_000,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === "POST") attempts.push([init.headers["Idempotency-Key"], response.status]);
      return response;
    },
  });
  try {
    await client.emit("fz-1", "counter.tick", 0);
    redis.pause();
    const pending = [1, 2, 3].map((n) => client.emit("fz-1", "counter.tick", n));
    await sleep(3_000);
    redis.resume();
    const ids = await Promise.all(pending);
    const stored = await client.history("fz-1", { limit: 100 });
    assert.deepEqual(stored.map((event) => event.data).sort(), [0, 1, 2, 3]);
    assert.deepEqual(stored.slice(1).map((event) => event.id).sort(), [...ids].sort());
    const retried = attempts.filter(([, status]) => status !== 200);
    assert.ok(retried.length >= 3, `each frozen emit was refused at least once (${JSON.stringify(attempts)})`);
    for (const [key] of retried) {
      assert.ok(attempts.some(([other, status]) => other === key && status === 200), `key ${key} stored in the end`);
    }
    console.log(`# emit attempts (status per try): ${attempts.map(([, status]) => status).join(" ")}`);
  } finally {
    client.close();
    await server.stop();
    await redis.stop();
  }
});

test("emits are sent one at a time in call order: a 4xx rejects only its own, the next goes on", async () => {
  const server = await startServer({});
  try {
    const client = createClient({ url: server.url });
    const [first, refused, third] = await Promise.allSettled([
      client.emit("order-1", "counter.tick", 1),
      client.emit("bad name!", "counter.tick", 2),
      client.emit("order-1", "counter.tick", 3),
    ]);
    assert.equal(first.status, "fulfilled");
    assert.equal(refused.status, "rejected");
    assert.equal(refused.reason.status, 400);
    assert.equal(third.status, "fulfilled");
    assert.ok(compareIds(first.value, third.value) < 0, "stored in call order");
    client.close();
  } finally {
    await server.stop();
  }
});

test("the size bound: an emit that would pass maxQueuedBytes is refused at once; the ones queued are all stored, in order", async () => {
  const server = await startServer({});
  try {
    // Each emit's JSON is 55 bytes: three fit in 200, the fourth does not.
    const client = createClient({ url: server.url, maxQueuedBytes: 200 });
    server.pause(); // no answer: the first waits for one, the next two behind it
    const queued = [1, 2, 3].map((n) => client.emit("bytes-1", "counter.tick", 100 + n));
    const outcome = await Promise.race([
      client.emit("bytes-1", "counter.tick", 104).then(
        () => "stored",
        (error) => error.message,
      ),
      sleep(1_000).then(() => "still waiting after 1 s"),
    ]);
    assert.match(outcome, /^emit queue full: 3 emits, 165 bytes wait$/);
    server.resume();
    const ids = await Promise.all(queued);
    assert.ok(compareIds(ids[0], ids[1]) < 0 && compareIds(ids[1], ids[2]) < 0, "stored in call order");
    const stored = await (await fetch(`${server.url}/history?channel=bytes-1`)).json();
    assert.deepEqual(
      stored.map((event) => event.data),
      [101, 102, 103],
    );
    client.close();
  } finally {
    server.resume();
    await server.stop();
  }
});

/** A `fetch` whose emits get no answer while `cut.on`; each try is counted. */
function cuttable() {
  const cut = { on: true, tries: 0 };
  cut.fetch = async (input, init) => {
    if (init?.method === "POST") {
      cut.tries++;
      if (cut.on) throw new TypeError("Failed to fetch (the network is cut)");
    }
    return fetch(input, init);
  };
  return cut;
}

test("an emit whose next backoff wait would pass its deadline still tries until the deadline, then is stored", async () => {
  const server = await startServer({});
  try {
    // Every wait the backoff draws is up to 60 s, far past the 1.5 s deadline: the waits
    // are cut at the deadline, where a last try is made (not given up at the first failure).
    const cut = cuttable();
    const client = createClient({ url: server.url, fetch: cut.fetch, backoff: { minMs: 60_000 }, emitTimeoutMs: 1_500 });
    const started = Date.now();
    const emitted = client.emit("deadline-1", "counter.tick", 1);
    setTimeout(() => (cut.on = false), 500);
    const id = await emitted;
    const stored = await (await fetch(`${server.url}/history?channel=deadline-1`)).json();
    assert.deepEqual(
      stored.map((event) => [event.id, event.data]),
      [[id, 1]],
    );
    assert.ok(cut.tries >= 2, `tried ${cut.tries} times`);
    assert.ok(Date.now() - started >= 500, "stored once the network came back");
    // Cut for good: it rejects once its deadline has passed, not before.
    cut.on = true;
    const failedAt = Date.now();
    await assert.rejects(client.emit("deadline-1", "counter.tick", 2), /no answer: Failed to fetch/);
    assert.ok(Date.now() - failedAt >= 1_400, `rejected after ${Date.now() - failedAt} ms, its deadline is 1.5 s`);
    client.close();
  } finally {
    await server.stop();
  }
});

test("reconnect() ends an emit's backoff wait: it is tried again at once", async () => {
  const server = await startServer({});
  try {
    const cut = cuttable();
    // The first failure's wait is drawn up to 10 min; reconnect() ends it.
    const client = createClient({ url: server.url, fetch: cut.fetch, backoff: { minMs: 600_000 } });
    const emitted = client.emit("wake-1", "counter.tick", 1);
    while (cut.tries < 1) await sleep(10);
    cut.on = false;
    const woken = Date.now();
    client.reconnect();
    const id = await emitted;
    assert.ok(Date.now() - woken < 5_000, `stored ${Date.now() - woken} ms after reconnect()`);
    const stored = await (await fetch(`${server.url}/history?channel=wake-1`)).json();
    assert.deepEqual(
      stored.map((event) => event.id),
      [id],
    );
    assert.ok(cut.tries >= 2, `tried ${cut.tries} times: a failed try, then one after reconnect()`);
    client.close();
  } finally {
    await server.stop();
  }
});
