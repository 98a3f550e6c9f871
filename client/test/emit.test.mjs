// Emits through a Redis frozen with SIGSTOP: the server answers 504 or 503, the client
// retries with the call's Idempotency-Key, and once Redis is back each emit is stored once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../packages/client/dist/index.js";
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
