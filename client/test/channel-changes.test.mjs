// One client, one connection: a subscription that stays on its channels while another
// changes its channels 100 times, with 200 events/s flowing to every channel involved.
// Each change reconnects once; every channel resumes from its own cursor, so the staying
// subscription gets every event exactly once, in order, and so does each channel the
// changing one comes back to (cursors outlive the channel changes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../packages/client/dist/index.js";
import { Ledger, emitLoop } from "./ledger.mjs";
import { eventually, redisUrl, sleep, startServer } from "./server.mjs";

for (const backend of ["memory", "redis"]) {
  test(`${backend}: 100 channel changes while 200 events/s flow: 0 duplicates, 0 lost`, async () => {
    const server = await startServer(backend === "redis" ? { redis: redisUrl } : {});
    const client = createClient({ url: server.url });
    const staying = new Ledger();
    client.subscribe({ channels: ["cc-main"], onEvent: staying.onEvent });
    const rooms = ["cc-a", "cc-b", "cc-c"];
    const changing = new Ledger();
    await eventually(() => client.status.state === "connected");
    const sent = new Ledger();
    const loop = emitLoop(() => server.url, ["cc-main", ...rooms], 200, sent);
    let unsubscribe = () => {};
    for (let change = 0; change < 100; change++) {
      unsubscribe();
      // Two of the three rooms, a different pair each time.
      const pair = rooms.filter((_, index) => index !== change % rooms.length);
      unsubscribe = client.subscribe({ channels: pair, onEvent: changing.onEvent });
      await sleep(30 + (change % 5) * 10);
    }
    // Back on every room so that each resumes from its cursor.
    unsubscribe();
    client.subscribe({ channels: rooms, onEvent: changing.onEvent });
    await sleep(300);
    await loop.stop();
    staying.emitted = new Map([["cc-main", sent.emitted.get("cc-main")]]);
    await eventually(() => staying.complete(), 15_000, "the staying subscription's events");
    // The changing subscription: no event twice, and each room's events in order.
    const counts = { ...staying.counts() };
    let duplicates = 0;
    for (const [room, ids] of changing.received) {
      duplicates += ids.length - new Set(ids).size;
      const emitted = sent.emitted.get(room);
      const firstIndex = emitted.indexOf(ids[0]);
      assert.deepEqual(ids, emitted.slice(firstIndex, firstIndex + ids.length), `${room}: a gap or a repeat`);
    }
    await sleep(200);
    staying.assertExactlyOnce();
    console.log(`# ${backend}: 100 channel changes, ${loop.count()} events: staying ${JSON.stringify(counts)}, changing duplicates ${duplicates}, ${client.stats.connections} connections, stats ${JSON.stringify(client.stats)}`);
    assert.equal(duplicates, 0);
    assert.equal(client.stats.duplicatesDropped, 0, "not even the safety net had to drop one");
    client.close();
    await server.stop();
  });
}
