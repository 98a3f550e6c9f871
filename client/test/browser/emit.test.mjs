// Emits that outlive the connection, in headless Chromium against the real server: made
// while the browser is offline (DevTools offline: `navigator.onLine` false, requests fail)
// or while the server restarts, they wait in the client's queue (bounded: a count and a
// size), then are sent in call order, each with the idempotency key it got when called.
//
//   CLIENT_TEST_SERVER=<target>/debug/client-test-server node --test test/browser/emit.test.mjs
//
// The page is tabs.html (test/browser/page/tabs.ts) with a stream of its own; the server
// runs on Redis (a fresh key prefix), so what it stored survives its restart, and the test
// reads it back from the history route.

import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { redisUrl, sleep, startServer, uniquePrefix } from "../server.mjs";
import { buildPages, dist } from "./build.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let browser;
const contexts = [];

before(async () => {
  await buildPages();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => undefined)));
});

/**
 * A page with its own stream, `maxQueued` emits at most waiting; with `channel` empty it
 * only emits (no subscription, so no stream).
 */
async function openPage(server, channel, maxQueued) {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("[page error]", error.message));
  await page.goto(`${server.origin}/tabs.html?channels=${channel}&share=0&maxQueued=${maxQueued}`);
  if (channel) await page.waitForFunction(() => window.__status?.state === "connected", null, { timeout: 15_000 });
  else await page.waitForFunction(() => typeof window.__emit === "function", null, { timeout: 15_000 });
  return { context, page };
}

/** What the server stored in `channel`: the tick numbers, in id order. */
async function stored(server, channel) {
  const response = await fetch(`${server.url}/history?channel=${channel}&limit=1000`);
  assert.equal(response.status, 200);
  return (await response.json()).map((event) => event.data);
}

/** The page's emits' outcomes once none is pending (or after `ms`). */
async function outcomes(page, ms = 40_000) {
  await page.waitForFunction(() => window.__emits.every((emit) => emit.id || emit.error), null, {
    timeout: ms,
    polling: 100,
  });
  return page.evaluate(() => window.__emits);
}

test("emits made during 10 s offline are stored once each, in call order, soon after; past the bound they are refused at once", async () => {
  const server = await startServer({ staticDir: dist, redis: redisUrl, prefix: uniquePrefix() });
  try {
    const { context, page } = await openPage(server, "offline-emit", 20);
    await context.setOffline(true);
    // 25 emits while offline: 20 wait, the 5 past the bound are refused at once.
    for (let n = 1; n <= 25; n++) await page.evaluate((n) => window.__emit("offline-emit", n), n);
    await sleep(200);
    const early = await page.evaluate(() => window.__emits.map(({ n, id, error }) => ({ n, id, error })));
    assert.deepEqual(
      early.filter((emit) => emit.error).map((emit) => emit.n),
      [21, 22, 23, 24, 25],
      "the emits past the bound are refused at once",
    );
    assert.match(early[20].error, /emit queue full: 20 emits/);
    assert.ok(early.slice(0, 20).every((emit) => !emit.id && !emit.error), "the 20 within the bound wait");
    await sleep(10_000);
    assert.deepEqual(await stored(server, "offline-emit"), [], "nothing was stored while offline");
    const back = Date.now();
    await context.setOffline(false);
    const done = await outcomes(page);
    const sent = done.filter((emit) => emit.id);
    assert.deepEqual(
      sent.map((emit) => emit.n),
      Array.from({ length: 20 }, (_, i) => i + 1),
      `each waiting emit resolves with its id; refused: ${JSON.stringify(done.filter((emit) => emit.error && emit.n <= 20))}`,
    );
    const last = Math.max(...sent.map((emit) => emit.at)) - back;
    console.log(`20 emits queued during 10 s offline: all stored ${last} ms after the network came back`);
    assert.ok(last < 5_000, `stored ${last} ms after the network came back`);
    assert.deepEqual(await stored(server, "offline-emit"), Array.from({ length: 20 }, (_, i) => i + 1), "stored once each, in call order");
  } finally {
    await server.stop();
  }
});

test("a page that only emits (no stream) sends what waited once the browser is back online, not at the next backoff step", async () => {
  const server = await startServer({ staticDir: dist });
  try {
    const { context, page } = await openPage(server, "", 20);
    await context.setOffline(true);
    for (let n = 1; n <= 3; n++) await page.evaluate((n) => window.__emit("emit-only", n), n);
    // 8 s of failed tries: the backoff's next wait is drawn up to 8-16 s by now.
    await sleep(8_000);
    const back = Date.now();
    await context.setOffline(false);
    const done = await outcomes(page);
    assert.deepEqual(
      done.map(({ n, id, error }) => ({ n, stored: Boolean(id), error })),
      [1, 2, 3].map((n) => ({ n, stored: true, error: undefined })),
    );
    const last = Math.max(...done.map((emit) => emit.at)) - back;
    console.log(`3 emits of a page without a stream: all stored ${last} ms after the network came back`);
    assert.ok(last < 2_000, `stored ${last} ms after the network came back (woken by \`online\`, not the backoff)`);
    assert.deepEqual(await stored(server, "emit-only"), [1, 2, 3], "stored once each, in call order");
  } finally {
    await server.stop();
  }
});

test("emits made while the server restarts are stored once each, in call order", async () => {
  const server = await startServer({ staticDir: dist, redis: redisUrl, prefix: uniquePrefix() });
  try {
    const { page } = await openPage(server, "restart-emit", 100);
    for (let n = 1; n <= 5; n++) await page.evaluate((n) => window.__emit("restart-emit", n), n);
    await outcomes(page);
    await server.stop(); // SIGTERM: the stream gets `reconnect`, emits get no answer
    for (let n = 6; n <= 30; n++) {
      await page.evaluate((n) => window.__emit("restart-emit", n), n);
      await sleep(40);
    }
    await server.start();
    const done = await outcomes(page);
    assert.deepEqual(
      done.filter((emit) => emit.error),
      [],
      "none failed",
    );
    assert.deepEqual(await stored(server, "restart-emit"), Array.from({ length: 30 }, (_, i) => i + 1), "stored once each, in call order");
  } finally {
    await server.stop();
  }
});
