// The core outside Node and browsers: subscribe, emit and history against a running
// client-test-server, in whatever runtime runs this file. Exits 0 when the three events
// came back once each, in order, live and from history.
//
//   client-test-server serve --port 18181 &
//   deno run --allow-net --allow-read scripts/runtime-smoke.mjs http://127.0.0.1:18181/api/realtime
//   bun scripts/runtime-smoke.mjs http://127.0.0.1:18181/api/realtime
//   node scripts/runtime-smoke.mjs http://127.0.0.1:18181/api/realtime
//
// (Deno and Bun come from npm as `deno` and `bun`; they are not in CI: see
// docs/guide/client.md.)
import { createClient } from "../packages/client/dist/index.js";

const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.version}`;
const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const exit = (code) => (globalThis.Deno ? Deno.exit(code) : process.exit(code));
const url = args[0] ?? "http://127.0.0.1:18181/api/realtime";
const channel = `smoke-${Date.now()}`;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = createClient({ url });
const live = [];
client.subscribe({ channels: [channel], onEvent: (event) => live.push(event.data) });
for (let i = 0; i < 50 && client.status.state !== "connected"; i++) await wait(100);
for (const n of [0, 1, 2]) await client.emit(channel, "counter.tick", n);
for (let i = 0; i < 50 && live.length < 3; i++) await wait(100);
const stored = (await client.history(channel, { limit: 10 })).map((event) => event.data);
client.close();
const ok = live.join() === "0,1,2" && stored.join() === "0,1,2";
console.log(`${runtime}: live ${JSON.stringify(live)}, history ${JSON.stringify(stored)}: ${ok ? "ok" : "FAILED"}`);
exit(ok ? 0 : 1);
