// A channel left while the connection still carries it: the events that arrive for it
// before the client reconnects must not move its cursor, or a later subscription to it
// resumes after them and they are lost (seen in the browser test of the React hooks: a
// page switching rooms lost the events that came in the debounce window of each switch).
//
//   CLIENT_TEST_SERVER=<target>/debug/client-test-server node --test test/channel-left.test.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@realtime-rs/client";
import { emitVia, eventually, sleep, startServer } from "./server.mjs";

/** Subscribes `client` to `channel`, collecting the ticks it receives. */
function collect(client, channel, into) {
  return client.subscribe({ channels: [channel], onEvent: (event) => into.push(event.data) });
}

async function emitTicks(server, channel, from, count) {
  for (let n = from; n < from + count; n++) await emitVia(server.url, channel, "counter.tick", n);
}

test("events of a channel left before the reconnect reach the next subscription to it", async () => {
  const server = await startServer();
  // A long debounce holds the old connection (room-x and room-y) open after room-x is left.
  const client = createClient({ url: server.url, debounceMs: 1_500 });
  try {
    const first = [];
    const stopX = collect(client, "room-x", first);
    const y = [];
    collect(client, "room-y", y);
    await eventually(() => client.status.state === "connected" && client.cursors().has("room-x") && client.cursors().has("room-y"));
    await emitTicks(server, "room-x", 1, 3);
    await eventually(() => first.length === 3, 10_000, "room-x's first ticks");

    stopX();
    await emitTicks(server, "room-x", 4, 3); // reach the client on the old connection
    await sleep(300);
    const again = [];
    collect(client, "room-x", again); // within the debounce: the channel set did not change
    await emitTicks(server, "room-x", 7, 3);
    await eventually(() => again.length >= 6, 10_000, `room-x's later ticks (got ${JSON.stringify(again)})`);
    await sleep(300);
    assert.deepEqual(first, [1, 2, 3]);
    assert.deepEqual(again, [4, 5, 6, 7, 8, 9]);
  } finally {
    client.close();
    await server.stop();
  }
});

test("a channel left and not joined again keeps its cursor where its last delivered event was", async () => {
  const server = await startServer();
  const client = createClient({ url: server.url, debounceMs: 1_500 });
  try {
    const first = [];
    const stopX = collect(client, "room-x", first);
    collect(client, "room-y", []);
    await eventually(() => client.cursors().has("room-x") && client.cursors().has("room-y"));
    await emitTicks(server, "room-x", 1, 2);
    await eventually(() => first.length === 2);
    const cursor = client.cursors().get("room-x");
    stopX();
    await emitTicks(server, "room-x", 3, 2);
    await sleep(2_500); // past the debounce: reconnected for room-y alone
    assert.equal(client.cursors().get("room-x"), cursor);
    const later = [];
    collect(client, "room-x", later);
    await eventually(() => later.length === 2, 10_000, `room-x's ticks sent while it was left (got ${JSON.stringify(later)})`);
    await sleep(300);
    assert.deepEqual(later, [3, 4]);
  } finally {
    client.close();
    await server.stop();
  }
});
