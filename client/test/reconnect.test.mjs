// Reconnects against the real server: the server killed (SIGKILL) and stopped (SIGTERM,
// which sends `reconnect`) five times while events flow, on Redis: every client resumes
// from its cursors, nothing lost, nothing twice; a silent connection (the server frozen
// with SIGSTOP) is noticed within about twice the keepalive; `Retry-After` is honoured;
// 401 stops the client until its credentials are refreshed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../packages/client/dist/index.js";
import { Ledger, emitLoop } from "./ledger.mjs";
import { eventually, redisUrl, sleep, startServer, emitVia, uniquePrefix } from "./server.mjs";

test("the server killed and stopped 5 times while events flow: every client resumes, 0 lost, 0 duplicated", async () => {
  const prefix = uniquePrefix();
  // Clients read from `reader`, which dies; events go in through `writer`, on the same Redis.
  const reader = await startServer({ redis: redisUrl, prefix, keepaliveMs: 1000 });
  const writer = await startServer({ redis: redisUrl, prefix });
  const channels = ["r-1", "r-2", "r-3"];
  const ledgers = [new Ledger(), new Ledger(), new Ledger()];
  const clients = ledgers.map((ledger) => {
    const client = createClient({ url: reader.url, keepaliveMs: 1000, backoff: { minMs: 100, maxMs: 1000 } });
    client.subscribe({ channels, onEvent: ledger.onEvent });
    return client;
  });
  await eventually(() => clients.every((client) => client.status.state === "connected"));
  const sent = new Ledger();
  const loop = emitLoop(() => writer.url, channels, 100, sent);
  try {
    for (let round = 0; round < 5; round++) {
      await sleep(600);
      if (round % 2 === 0) await reader.kill();
      else await reader.stop();
      await sleep(400);
      await reader.start();
    }
    await sleep(500);
  } finally {
    await loop.stop();
  }
  for (const ledger of ledgers) {
    ledger.emitted = sent.emitted;
    await eventually(() => ledger.complete(), 15_000, "every emitted event delivered");
  }
  await sleep(300);
  for (const ledger of ledgers) ledger.assertExactlyOnce();
  const total = [...sent.emitted.values()].reduce((sum, ids) => sum + ids.length, 0);
  console.log(`# 5 restarts, ${total} events over ${channels.length} channels, ${clients.length} clients: ${JSON.stringify(ledgers.map((ledger) => ledger.counts()))}, stats ${JSON.stringify(clients[0].stats)}`);
  // A client whose backoff spans a whole restart skips it; each came back at least at the end.
  assert.ok(clients.every((client) => client.stats.connections >= 2), "every client reconnected");
  for (const client of clients) client.close();
  await reader.stop();
  await writer.stop();
});

test("a silent connection is noticed within about twice the keepalive, and the stream resumes after it", async () => {
  const server = await startServer({ redis: redisUrl, keepaliveMs: 300 });
  const client = createClient({ url: server.url, keepaliveMs: 300, backoff: { minMs: 100, maxMs: 500 } });
  const ledger = new Ledger();
  client.subscribe({ channels: ["d-1"], onEvent: ledger.onEvent });
  await eventually(() => client.status.state === "connected");
  await sleep(200);
  ledger.sent("d-1", await emitVia(server.url, "d-1", "counter.tick", 1));
  server.pause();
  const frozenAt = Date.now();
  await eventually(() => client.status.state === "reconnecting", 5_000, "the client noticing the silence");
  const noticedAfter = Date.now() - frozenAt;
  console.log(`# a frozen server noticed after ${noticedAfter} ms (keepalive 300 ms)`);
  // Twice the keepalive is 600 ms; the upper bound leaves room for a loaded machine (the
  // default would take 60 s).
  assert.ok(noticedAfter >= 500 && noticedAfter < 2_500, `noticed after ${noticedAfter} ms`);
  server.resume();
  await eventually(() => client.status.state === "connected", 10_000);
  ledger.sent("d-1", await emitVia(server.url, "d-1", "counter.tick", 2));
  await eventually(() => ledger.complete());
  ledger.assertExactlyOnce();
  client.close();
  await server.stop();
});

test("a 503 with Retry-After makes the client wait at least that long", async () => {
  const server = await startServer({ maxStreams: 1 });
  const first = createClient({ url: server.url });
  first.subscribe({ channels: ["ra-1"], onEvent: () => {} });
  await eventually(() => first.status.state === "connected");
  const second = createClient({ url: server.url, backoff: { minMs: 100, maxMs: 200 } });
  const statuses = [];
  second.onStatus((status) => statuses.push(status));
  second.subscribe({ channels: ["ra-1"], onEvent: () => {} });
  await eventually(() => second.status.state === "reconnecting");
  const status = second.status;
  assert.ok(status.retryInMs >= 2_000, `retry in ${status.retryInMs} ms after Retry-After: 2`);
  assert.match(status.reason, /HTTP 503: too many open streams/);
  first.close();
  await eventually(() => second.status.state === "connected", 10_000);
  second.close();
  await server.stop();
});

test("401 stops the client with the server's message until the credentials are refreshed", async () => {
  const server = await startServer({ token: "good" });
  let token = "stale";
  const refreshed = [];
  const client = createClient({
    url: server.url,
    headers: () => ({ Authorization: `Bearer ${token}` }),
    onUnauthorized: async (status, message) => {
      refreshed.push([status, message]);
      if (refreshed.length < 2) return false; // the app has no new token yet
      token = "good";
      return true;
    },
  });
  const got = [];
  client.subscribe({ channels: ["au-1"], onEvent: (event) => got.push(event.data) });
  await eventually(() => client.status.state === "unauthorized");
  assert.deepEqual(client.status, {
    state: "unauthorized",
    status: 401,
    message: "expected `Authorization: Bearer <token>` with the current token",
  });
  const failures = client.stats.failedConnects;
  await sleep(1_500);
  assert.equal(client.stats.failedConnects, failures, "no retry while unauthorized");
  client.reconnect(); // the app's sign-in finished: the hook now gives the new token
  await eventually(() => client.status.state === "connected");
  assert.equal(refreshed.length, 2);
  await emitVia(server.url, "au-1", "counter.tick", 7, { authorization: "Bearer good" });
  await eventually(() => got.length === 1);
  client.close();
  await server.stop();
});
