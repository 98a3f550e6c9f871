// The React hooks in headless Chromium against the real server (client-test-server), and
// the same room-switching scenario with the unmodified @upstash/realtime 1.1.0 client.
//
//   CLIENT_TEST_SERVER=<target>/debug/client-test-server node --test test/browser/
//
// (It compiles the packages and bundles the pages first: test/browser/build.mjs.)
//
// Environment: CLIENT_TEST_SERVER (else the cargo target folder), CHROMIUM (default
// /usr/bin/chromium), BROWSER_TEST_REDIS=1 (the server on Redis at REDIS_URL, default
// redis://127.0.0.1:6379, under a fresh key prefix; else the embedded backend). Needs
// client/node_modules and, for the @upstash comparison, tests/e2e/node_modules (`npm ci`
// in each; scripts/test does it): without them the comparison fails, it never skips.
//
// Every event is a `counter.tick` carrying a run-wide unique number, emitted over HTTP by
// this driver, so a page's duplicate, loss or reordering is always visible. "Exactly" below
// means: per channel, the page's events are the emitted ones, each once, in id order.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { redisUrl, sleep, startServer, uniquePrefix } from "../server.mjs";
import { buildPages, dist } from "./build.mjs";
import { CuttableProxy } from "./proxy.mjs";
import { Ticks, tally } from "./ticks.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let browser;
let upstashBuilt = false;

before(async () => {
  upstashBuilt = await buildPages();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
});

/** The browser contexts the current test opened: closed before its server stops. */
const contexts = [];
async function closePages() {
  await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => undefined)));
}

/** A server serving the pages: on the embedded backend, or on Redis (a fresh key prefix) with BROWSER_TEST_REDIS=1. */
function pageServer() {
  const redis = process.env.BROWSER_TEST_REDIS === "1" ? { redis: redisUrl, prefix: `${uniquePrefix()}:` } : {};
  return startServer({ staticDir: dist, ...redis });
}

/**
 * Opens `file` (ours.html or upstash.html) with `query`, from `origin` (the server's, or a
 * proxy's); waits for status `connected`.
 */
async function openPage(server, file, query, origin = server.origin) {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[${file} error]`, error.message));
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`[${file} console]`, message.text());
  });
  const streams = [];
  page.on("request", (request) => {
    if (request.method() === "GET" && request.url().startsWith(`${origin}/api/realtime?`)) streams.push(request.url());
  });
  await page.goto(`${origin}/${file}?${query}`);
  await page.waitForFunction(() => document.querySelector("#status")?.dataset.state === "connected", null, {
    timeout: 15_000,
  });
  return { context, page, streams, file };
}

/** Waits until our page's client has a cursor for `room` (its subscription is live). */
async function live(page, room) {
  await page.waitForFunction((room) => window.__client?.cursors().has(room), room, { timeout: 15_000 });
}

/** Switches the page's room. */
function setRoom(page, room) {
  return page.evaluate((room) => window.__setRoom(room), room);
}

/** The page's events: [{ channel, data }] in arrival order. */
function received(page) {
  return page.evaluate(() => window.__events.map(({ channel, data }) => ({ channel, data })));
}

/** Waits until the page has every tick sent to `room` (false after `ms`). */
async function caughtUp(page, ticks, room, ms = 20_000) {
  const want = ticks.of(room).map((tick) => tick.n);
  try {
    await page.waitForFunction(
      ([room, want]) => {
        const have = new Set(window.__events.filter((e) => e.channel === room).map((e) => e.data));
        return want.every((n) => have.has(n));
      },
      [room, want],
      { timeout: ms, polling: 100 },
    );
    return true;
  } catch {
    return false;
  }
}

/** A fixed pseudo-random sequence of `count` room switches: [room, pause in ms]. */
function switches(rooms, count) {
  const pauses = [10, 40, 120, 200]; // some inside the client's 25 ms debounce
  let state = 7;
  let current = 0;
  const sequence = [];
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    current = (current + 1 + (state % (rooms.length - 1))) % rooms.length;
    sequence.push([rooms[current], pauses[i % pauses.length]]);
  }
  return sequence;
}

/**
 * The scenario: each page visits every room once (so each has a starting point in each),
 * then `changes` room switches while ticks flow at `perSecond` over the rooms, then each
 * page visits every room again to collect what was sent there while it was elsewhere.
 * Returns each page's tally.
 */
async function switchRooms(pages, ticks, rooms, { changes = 100, perSecond = 200 } = {}) {
  for (const room of rooms) {
    await Promise.all(pages.map((p) => setRoom(p.page, room)));
    for (const p of pages) if (p.file === "ours.html") await live(p.page, room);
  }
  await sleep(500); // the @upstash page has no way to tell that its subscription is live
  const flow = ticks.flow(rooms, perSecond);
  const begin = Date.now();
  for (const [room, pause] of switches(rooms, changes)) {
    await Promise.all(pages.map((p) => setRoom(p.page, room)));
    await sleep(pause);
  }
  await flow.stop();
  const seconds = (Date.now() - begin) / 1000;
  for (const room of rooms) {
    await Promise.all(pages.map((p) => setRoom(p.page, room)));
    await Promise.all(pages.map((p) => caughtUp(p.page, ticks, room)));
  }
  await sleep(1_000); // late duplicates show up
  const tallies = [];
  for (const p of pages) tallies.push(tally(ticks, rooms, await received(p.page)));
  return { tallies, seconds };
}

/** Which events a page lost, and the streams it opened (their cursors), for a failure. */
async function explainLoss({ page, streams }, ticks, rooms) {
  const got = new Set((await received(page)).map((e) => e.data));
  const lines = rooms.map((room) => {
    const lost = ticks.of(room).filter((tick) => !got.has(tick.n));
    return `${room}: ${lost.length} lost: ${lost.slice(0, 20).map((tick) => `${tick.n}@${tick.id}`).join(" ")}`;
  });
  const urls = streams.map((url) => decodeURIComponent(url.slice(url.indexOf("?"))));
  return [...lines, "streams:", ...urls].join("\n");
}

/** How many `type` listeners the page's window has (DevTools protocol). */
async function windowListeners({ context, page }, type) {
  const cdp = await context.newCDPSession(page);
  const { result } = await cdp.send("Runtime.evaluate", { expression: "window" });
  const { listeners } = await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId });
  await cdp.detach();
  return listeners.filter((listener) => listener.type === type).length;
}

/**
 * A 10 s network outage for `pages` (opened through `proxy`), two ticks a second emitted to
 * `room` meanwhile: DevTools takes each page offline (its `offline` event fires, new
 * requests fail) and, once our page shows it, the proxy resets the open connections
 * (DevTools leaves them flowing). Returns the function that ends it.
 */
async function outage(pages, proxy, ticks, room) {
  const sessions = await Promise.all(pages.map(({ context, page }) => context.newCDPSession(page)));
  const offline = (off) => ({ offline: off, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await Promise.all(sessions.map((cdp) => cdp.send("Network.emulateNetworkConditions", offline(true))));
  for (const { page, file } of pages) {
    if (file === "ours.html") {
      await page.waitForFunction(() => !navigator.onLine && document.querySelector("#status")?.dataset.state === "offline");
    }
  }
  proxy.cut();
  const begin = Date.now();
  while (Date.now() - begin < 10_000) {
    await ticks.emit(room);
    await sleep(500);
  }
  return async () => {
    proxy.restore();
    await Promise.all(sessions.map((cdp) => cdp.send("Network.emulateNetworkConditions", offline(false))));
  };
}

function stats(page) {
  return page.evaluate(() => window.__client.stats);
}

test("useRealtime in a page switching rooms 100 times while 200 events/s flow: every room's events once, in order", async () => {
  const server = await pageServer();
  try {
    const rooms = ["room-a", "room-b", "room-c", "room-d"];
    const ours = await openPage(server, "ours.html", "room=room-a");
    const ticks = new Ticks(server);
    const { tallies, seconds } = await switchRooms([ours], ticks, rooms);
    const [result] = tallies;
    const clientStats = await stats(ours.page);
    console.log(
      `rooms: ${ticks.sent.length} events in ${seconds.toFixed(1)} s, ${ours.streams.length} streams: ` +
        `${JSON.stringify(result)}; client ${JSON.stringify(clientStats)}`,
    );
    if (result.lost > 0) console.log(await explainLoss(ours, ticks, rooms));
    assert.equal(result.lost, 0, "events lost");
    assert.equal(result.duplicates, 0, "events delivered twice");
    assert.equal(result.reordered, 0, "events out of id order");
    assert.equal(result.foreign, 0, "events never sent to their channel");
    assert.equal(result.delivered, ticks.sent.length);
  } finally {
    await closePages();
    await server.stop();
  }
});

test("StrictMode: the double mount opens one stream, and cursors survive remounts", async () => {
  const server = await pageServer();
  try {
    // `own`: the provider makes the client (its close on unmount must not fire); `keyed`:
    // each room switch mounts a new feed, which StrictMode mounts, unmounts and mounts.
    const strict = await openPage(server, "ours.html", "strict&keyed&own&room=room-s1");
    const { page } = strict;
    await live(page, "room-s1");
    await sleep(300);
    assert.equal((await server.stats()).open_streams, 1, "open streams on the server after the double mount");
    assert.equal((await stats(page)).connections, 1, "connections after the double mount");
    assert.deepEqual(await page.evaluate(() => window.__statusLog), ["connecting", "connected"]);
    // StrictMode made the provider's client twice and kept one: the other left nothing
    // behind (a client listens to `online` only while it streams).
    assert.equal(await windowListeners(strict, "online"), 1, "`online` listeners on window");

    const ticks = new Ticks(server);
    for (let i = 0; i < 10; i++) await ticks.emit("room-s1");
    assert.ok(await caughtUp(page, ticks, "room-s1"), "room-s1's first events");

    await setRoom(page, "room-s2");
    await live(page, "room-s2");
    for (let i = 0; i < 10; i++) {
      await ticks.emit("room-s1"); // while the page is elsewhere: delivered on its return
      await ticks.emit("room-s2");
    }
    assert.ok(await caughtUp(page, ticks, "room-s2"), "room-s2's events");
    await setRoom(page, "room-s1");
    assert.ok(await caughtUp(page, ticks, "room-s1"), "room-s1's events sent while the page was in room-s2");
    await sleep(500);

    const result = tally(ticks, ["room-s1", "room-s2"], await received(page));
    assert.deepEqual(result, { delivered: ticks.sent.length, duplicates: 0, lost: 0, reordered: 0, foreign: 0 });
    // One connection per room change, none for the double mounts.
    assert.equal((await stats(page)).connections, 3, "connections: the first and one per room change");
    assert.equal((await server.stats()).open_streams, 1, "open streams on the server at the end");
    assert.equal(await page.evaluate(() => window.__client.status.state), "connected");
  } finally {
    await closePages();
    await server.stop();
  }
});

test("offline for 10 s (DevTools offline, open connections reset): no tries while offline, one reconnect after, the missed events once and in order", async () => {
  const server = await pageServer();
  const proxy = await CuttableProxy.start(server.port);
  try {
    const room = "room-o";
    const offline = await openPage(server, "ours.html", `room=${room}`, proxy.origin);
    const { page } = offline;
    await live(page, room);
    const ticks = new Ticks(server);
    for (let i = 0; i < 5; i++) await ticks.emit(room);
    assert.ok(await caughtUp(page, ticks, room), "events before the outage");

    const logBefore = (await page.evaluate(() => window.__statusLog)).length;
    const shownBefore = (await page.evaluate(() => window.__shown)).length;
    const streamsBefore = offline.streams.length;
    const connectionsBefore = (await stats(page)).connections;

    const online = await outage([offline], proxy, ticks, room);
    const duringOutage = (await received(page)).length;
    const streamsDuringOutage = offline.streams.length - streamsBefore;
    await online();
    assert.ok(await caughtUp(page, ticks, room), "the events emitted during the outage");
    await sleep(1_000);

    const statuses = (await page.evaluate(() => window.__statusLog)).slice(logBefore);
    const shown = (await page.evaluate(() => window.__shown)).slice(shownBefore);
    const result = tally(ticks, [room], await received(page));
    const connections = (await stats(page)).connections - connectionsBefore;
    console.log(
      `offline: ${ticks.sent.length - 5} events during 10 s offline; statuses set: ${statuses.join(" -> ")}; ` +
        `shown: ${shown.join(" -> ")}; stream requests while offline: ${streamsDuringOutage}, after: ` +
        `${offline.streams.length - streamsBefore - streamsDuringOutage}; ${JSON.stringify(result)}`,
    );
    assert.equal(duringOutage, 5, "events received while offline");
    assert.equal(streamsDuringOutage, 0, "stream requests while the browser was offline");
    assert.equal(offline.streams.length - streamsBefore, 1, "stream requests after the outage");
    assert.equal(connections, 1, "connections opened after the outage");
    assert.deepEqual(result, { delivered: ticks.sent.length, duplicates: 0, lost: 0, reordered: 0, foreign: 0 });
    // Offline is shown, then one connect.
    assert.equal(statuses.at(-1), "connected");
    assert.equal(statuses.filter((s) => s === "connected").length, 1, `one connect after the outage: ${statuses}`);
    assert.ok(statuses.indexOf("offline") >= 0 && statuses.indexOf("offline") < statuses.indexOf("connected"));
    assert.ok(shown.includes("offline") && shown.at(-1) === "connected", `statuses shown: ${shown}`);
  } finally {
    await closePages();
    await proxy.close();
    await server.stop();
  }
});

test("usePresence, useEmit and useHistory: members join and leave, an emit comes back through useRealtime and useHistory", async () => {
  const server = await pageServer();
  try {
    const room = "room-p";
    const alice = await openPage(server, "ours.html", `member=alice&room=${room}`);
    const members = (page) => page.locator("#members").textContent();
    await alice.page.waitForFunction(() => document.querySelector("#members")?.textContent === "alice");
    const history = alice.page.locator("#history");
    await alice.page.waitForFunction(() => document.querySelector("#history")?.dataset.loading === "false");
    assert.equal(await history.locator("li").count(), 0, "history of a new room");

    const bob = await openPage(server, "ours.html", `member=bob&room=${room}`);
    await alice.page.waitForFunction(() => document.querySelector("#members")?.textContent === "alice,bob");
    // Bob's page reads the members once its stream is live: it may come after Alice's event.
    await bob.page.waitForFunction(() => document.querySelector("#members")?.textContent === "alice,bob");
    assert.equal(await members(bob.page), "alice,bob");
    await bob.context.close();
    // The server lets a member linger 5 s after its stream ends.
    await alice.page.waitForFunction(() => document.querySelector("#members")?.textContent === "alice", null, {
      timeout: 20_000,
    });

    await alice.page.click("#send");
    await alice.page.waitForFunction(() => /^\d+-\d+$/.test(document.querySelector("#sent")?.textContent ?? ""));
    const id = await alice.page.locator("#sent").textContent();
    await alice.page.waitForFunction((id) => window.__events.some((e) => e.id === id), id);
    const event = await alice.page.evaluate((id) => window.__events.find((e) => e.id === id), id);
    assert.deepEqual(event, { id, channel: room, event: "chat.message", data: { author: "alice", text: `hello ${room}` } });

    await alice.page.click("#reload");
    await alice.page.waitForFunction(() => document.querySelectorAll("#history li").length === 1);
    assert.equal(await history.locator("li").first().textContent(), `hello ${room}`);
    assert.equal(await history.getAttribute("data-error"), "");
  } finally {
    await closePages();
    await server.stop();
  }
});

test("the @upstash/realtime 1.1.0 client and ours, side by side: 100 room changes while 200 events/s flow", async () => {
  assert.ok(upstashBuilt, "tests/e2e/node_modules is missing: run `npm ci` in tests/e2e (scripts/test does)");
  const server = await pageServer();
  try {
    const rooms = ["room-a", "room-b", "room-c", "room-d"];
    const ours = await openPage(server, "ours.html", "room=room-a");
    const upstash = await openPage(server, "upstash.html", "room=room-a");
    const ticks = new Ticks(server);
    const { tallies, seconds } = await switchRooms([ours, upstash], ticks, rooms);
    const [mine, theirs] = tallies;
    if (mine.lost > 0) console.log(await explainLoss(ours, ticks, rooms));
    const line = (name, r, streams) =>
      `${name}: ${r.duplicates} duplicates, ${r.lost} lost, ${r.reordered} out of order (${r.delivered} delivered, ${streams} streams)`;
    console.log(
      `comparison: ${rooms.length} rooms, 100 room changes, ${ticks.sent.length} events in ${seconds.toFixed(1)} s; ` +
        `${line("@upstash/realtime 1.1.0", theirs, upstash.streams.length)}; ` +
        `${line("@realtime-rs/react", mine, ours.streams.length)}`,
    );
    assert.deepEqual({ ...mine, delivered: 0 }, { delivered: 0, duplicates: 0, lost: 0, reordered: 0, foreign: 0 });
    assert.equal(mine.delivered, ticks.sent.length);
    // Proves the scenario can show duplicates: 1.1.0 forgets a room's cursor when a hook
    // leaves it and replays the room from the page's first connect on its return.
    assert.ok(theirs.duplicates > 0, "the @upstash client showed no duplicates: the scenario may not test anything");
  } finally {
    await closePages();
    await server.stop();
  }
});

test("the @upstash/realtime 1.1.0 client and ours, side by side: the network offline for 10 s", async () => {
  assert.ok(upstashBuilt, "tests/e2e/node_modules is missing: run `npm ci` in tests/e2e (scripts/test does)");
  const server = await pageServer();
  const proxy = await CuttableProxy.start(server.port);
  try {
    const room = "room-o";
    const pages = [
      await openPage(server, "ours.html", `room=${room}`, proxy.origin),
      await openPage(server, "upstash.html", `room=${room}`, proxy.origin),
    ];
    await live(pages[0].page, room);
    await sleep(500); // the @upstash page has no way to tell that its subscription is live
    const ticks = new Ticks(server);
    for (let i = 0; i < 5; i++) await ticks.emit(room);
    for (const { page } of pages) assert.ok(await caughtUp(page, ticks, room), "events before the outage");

    const before = await Promise.all(
      pages.map(async (p) => ({ shown: (await p.page.evaluate(() => window.__shown)).length, streams: p.streams.length })),
    );
    const online = await outage(pages, proxy, ticks, room);
    const during = pages.map((p, i) => p.streams.length - before[i].streams);
    const sentDuring = ticks.sent.length - 5;
    await online();
    const back = Date.now();
    for (let i = 0; i < 5; i++) await ticks.emit(room); // and after the outage
    const resumed = await Promise.all(
      pages.map(async ({ page }) => ((await caughtUp(page, ticks, room, 15_000)) ? Date.now() - back : undefined)),
    );
    await sleep(1_000);

    const results = [];
    for (const [i, p] of pages.entries()) {
      const shown = (await p.page.evaluate(() => window.__shown)).slice(before[i].shown);
      const result = tally(ticks, [room], await received(p.page));
      results.push(result);
      const name = i === 0 ? "@realtime-rs/react" : "@upstash/realtime 1.1.0";
      const caught = resumed[i] === undefined ? "not caught up 15 s after" : `caught up ${resumed[i]} ms after`;
      result.line =
        `${name}: ${caught}, ${result.duplicates} duplicates, ${result.lost} lost; ${during[i]} stream tries ` +
        `while offline, ${p.streams.length - before[i].streams - during[i]} after; statuses shown: ${shown.join(" -> ")}`;
    }
    console.log(`offline comparison: ${sentDuring} events during 10 s offline, 5 after; ${results[1].line}; ${results[0].line}`);
    const { line: _, ...mine } = results[0];
    assert.deepEqual(mine, { delivered: ticks.sent.length, duplicates: 0, lost: 0, reordered: 0, foreign: 0 });
  } finally {
    await closePages();
    await proxy.close();
    await server.stop();
  }
});
