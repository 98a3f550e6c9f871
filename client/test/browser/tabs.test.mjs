// Tab sharing (`shareAcrossTabs`, `@realtime-rs/client/tabs`) in headless Chromium against
// the real server: one browser context is one profile, its pages are its tabs, and the page
// is served over HTTP/1.1 (6 connections per origin).
//
//   CLIENT_TEST_SERVER=<target>/debug/client-test-server node --test test/browser/tabs.test.mjs
//
// Each tab is tabs.html (test/browser/page/tabs.ts): one client, its events in
// window.__got. Events are ticks (test/browser/ticks.mjs), so any loss, duplicate or
// reordering in any tab shows. Takeover times are printed (`takeover ...`): docs/guide/
// client.md records them.

import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { sleep, startServer } from "../server.mjs";
import { buildPages, dist } from "./build.mjs";
import { Ticks, tally } from "./ticks.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let browser;
let upstashBuilt = false;
const contexts = [];

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

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => undefined)));
});

/** A browser profile: its pages are tabs of one browser. */
async function profile(init) {
  const context = await browser.newContext();
  contexts.push(context);
  if (init) await context.addInitScript(init);
  return context;
}

/** Opens tabs.html in `context` with `query`; waits for `connected`. */
async function openTab(context, server, query) {
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("[tab error]", error.message));
  await page.goto(`${server.origin}/tabs.html?${query}`);
  await page.waitForFunction(() => window.__status?.state === "connected", null, { timeout: 15_000 });
  return page;
}

/** Each tab's role: leader, follower or unshared. */
function roles(pages) {
  return Promise.all(pages.map((page) => page.evaluate(() => window.__status.tabs)));
}

/** The tab's events as the tally reads them: [{ channel, data }]. */
function received(page) {
  return page.evaluate(() => window.__got.map(({ channel, data }) => ({ channel, data })));
}

/** Waits until `page` has every tick sent to `rooms` (false after `ms`). */
async function caughtUp(page, ticks, rooms, ms = 20_000) {
  const want = rooms.flatMap((room) => ticks.of(room).map((tick) => tick.n));
  try {
    await page.waitForFunction(
      (want) => {
        const have = new Set(window.__got.map((event) => event.data));
        return want.every((n) => have.has(n));
      },
      want,
      { timeout: ms, polling: 100 },
    );
    return true;
  } catch {
    return false;
  }
}

/** Asserts that each page got exactly the ticks of `rooms`: none lost, repeated, reordered or foreign. */
async function assertExactly(pages, ticks, rooms, what) {
  for (const [index, page] of pages.entries()) {
    const done = await caughtUp(page, ticks, rooms);
    const result = tally(ticks, rooms, await received(page));
    const sent = rooms.reduce((sum, room) => sum + ticks.of(room).length, 0);
    if (!done) {
      const have = new Set((await received(page)).map((event) => event.data));
      const lost = rooms.flatMap((room) => ticks.of(room)).filter((tick) => !have.has(tick.n));
      const all = rooms.flatMap((room) => ticks.of(room)).map((tick) => tick.n);
      console.log(`${what}: tab ${index} lost ${JSON.stringify(lost)} of ${all[0]}..${all.at(-1)}`);
    }
    assert.ok(done, `${what}: tab ${index} did not catch up: ${JSON.stringify(result)}`);
    assert.deepEqual(
      { ...result, delivered: undefined },
      { delivered: undefined, duplicates: 0, lost: 0, reordered: 0, foreign: 0 },
      `${what}: tab ${index}`,
    );
    assert.equal(result.delivered, sent, `${what}: tab ${index}`);
    const stats = await page.evaluate(() => window.__stats());
    assert.equal(stats.duplicatesDropped, 0, `${what}: tab ${index}: the server never repeats an event to a client`);
  }
}

test("three tabs share one stream: the server holds one, and each tab gets every event once, in order", async () => {
  const server = await startServer({ staticDir: dist });
  try {
    const context = await profile();
    const pages = [];
    for (let i = 0; i < 3; i++) pages.push(await openTab(context, server, "channels=three"));
    assert.deepEqual((await roles(pages)).sort(), ["follower", "follower", "leader"]);
    assert.equal((await server.stats()).open_streams, 1);
    const ticks = new Ticks(server);
    const flow = ticks.flow(["three"], 100);
    await sleep(1_500);
    await flow.stop();
    await assertExactly(pages, ticks, ["three"], "three tabs");
    assert.equal((await server.stats()).open_streams, 1);
  } finally {
    await server.stop();
  }
});

// A browser may drop a `BroadcastChannel` message to a tab it is freezing (seen here: the
// frozen leader's own event frame never reached its own client). This page drops the next
// event frame it would hear from the leader when told to (`window.__dropOne = true`).
const DROP_ONE = () => {
  const listen = BroadcastChannel.prototype.addEventListener;
  BroadcastChannel.prototype.addEventListener = function (type, listener, options) {
    const filtered = (event) => {
      const { t, raw } = event.data ?? {};
      if (window.__dropOne && t === "frame" && String(raw).includes('"id"')) {
        window.__dropOne = false;
        window.__dropped = raw;
        return;
      }
      listener.call(this, event);
    };
    return listen.call(this, type, type === "message" ? filtered : listener, options);
  };
};

test("an event frame of the leader's lost on its way to a follower: the follower asks again and misses nothing", async () => {
  const server = await startServer({ staticDir: dist });
  try {
    const context = await profile(DROP_ONE);
    const pages = [];
    for (let i = 0; i < 2; i++) pages.push(await openTab(context, server, "channels=dropped"));
    const follower = pages[(await roles(pages)).indexOf("follower")];
    assert.ok(follower, "a follower");
    const ticks = new Ticks(server);
    const flow = ticks.flow(["dropped"], 100);
    await sleep(500);
    await follower.evaluate(() => (window.__dropOne = true));
    await sleep(500);
    await flow.stop();
    assert.ok(await follower.evaluate(() => window.__dropped), "a frame was dropped");
    await assertExactly(pages, ticks, ["dropped"], "a frame dropped");
  } finally {
    await server.stop();
  }
});

test("tabs subscribed to different channels each get only their own", async () => {
  const server = await startServer({ staticDir: dist });
  try {
    const context = await profile();
    const queries = ["channels=own-a", "channels=own-b", "channels=own-a,own-b"];
    const pages = [];
    for (const query of queries) pages.push(await openTab(context, server, query));
    const ticks = new Ticks(server);
    const flow = ticks.flow(["own-a", "own-b"], 100);
    await sleep(1_000);
    await flow.stop();
    await assertExactly([pages[0]], ticks, ["own-a"], "the own-a tab");
    await assertExactly([pages[1]], ticks, ["own-b"], "the own-b tab");
    await assertExactly([pages[2]], ticks, ["own-a", "own-b"], "the tab of both");
    assert.equal((await server.stats()).open_streams, 1);
  } finally {
    await server.stop();
  }
});

test("ten tabs over HTTP/1.1 all get events on one stream; the @upstash client's seventh tab never connects", async () => {
  const server = await startServer({ staticDir: dist });
  try {
    const context = await profile();
    const pages = [];
    for (let i = 0; i < 10; i++) pages.push(await openTab(context, server, "channels=ten"));
    assert.equal((await server.stats()).open_streams, 1);
    const ticks = new Ticks(server);
    for (let i = 0; i < 20; i++) await ticks.emit("ten");
    await assertExactly(pages, ticks, ["ten"], "ten tabs");
    await context.close();

    // The comparison: the unmodified @upstash/realtime 1.1.0 client, one stream per tab.
    assert.ok(upstashBuilt, "the @upstash page was not built: run `npm ci` in tests/e2e (scripts/test does)");
    const theirs = await profile();
    const connected = [];
    for (let i = 0; i < 10; i++) {
      const page = await theirs.newPage();
      // The 7th tab's own page load waits for one of the 6 connections, all held by streams.
      await page.goto(`${server.origin}/upstash.html?room=ten`, { timeout: 3_000 }).catch(() => undefined);
      const up = await page
        .waitForFunction(() => document.querySelector("#status")?.dataset.state === "connected", null, { timeout: 3_000 })
        .then(() => true)
        .catch(() => false);
      connected.push(up);
    }
    console.log(`@upstash client, 10 tabs: ${connected.filter(Boolean).length} connected (${connected.map(Number).join("")})`);
    assert.deepEqual(connected, [true, true, true, true, true, true, false, false, false, false]);
  } finally {
    await server.stop();
  }
});

test("the leader closed, crashed, then frozen while 100 events/s flow: another tab takes over within about a second; every tab gets every event once, in order", async () => {
  const server = await startServer({ staticDir: dist });
  let stopFlow = async () => undefined;
  try {
    const context = await profile();
    const pages = [];
    for (let i = 0; i < 4; i++) pages.push(await openTab(context, server, "channels=takeover"));
    const ticks = new Ticks(server);
    const flow = ticks.flow(["takeover"], 100);
    stopFlow = () => flow.stop();
    await sleep(500);
    const live = new Set(pages);
    let frozen;
    const takeovers = {};
    for (const kind of ["closed", "crashed", "frozen"]) {
      const [leader] = (await Promise.all([...live].map(async (page) => [page, (await roles([page]))[0]]))).filter(
        ([, role]) => role === "leader",
      )[0] ?? [];
      assert.ok(leader, `a leader before the leader is ${kind}`);
      live.delete(leader);
      const started = Date.now();
      if (kind === "closed") await leader.close();
      else {
        const cdp = await context.newCDPSession(leader);
        // (Its answer never comes: the renderer is gone.)
        if (kind === "crashed") void cdp.send("Page.crash").catch(() => undefined);
        else {
          // A hidden tab frozen by the browser gets `freeze` and gives up the lock at once.
          // Headless Chromium never hides a page, so it ignores this for the visible ones
          // (measured: timers go on, no `freeze`); the debugger then stops the tab's scripts,
          // which is how a frozen tab that did not say so looks to the others: the lock
          // held, no heartbeat, no answer to a ping.
          await cdp.send("Page.setWebLifecycleState", { state: "frozen" });
          await cdp.send("Debugger.enable");
          await cdp.send("Debugger.pause");
          frozen = { page: leader, cdp };
        }
      }
      // Taken over: another tab leads and its stream is open.
      for (;;) {
        const now = await roles([...live]);
        if (now.includes("leader")) break;
        assert.ok(Date.now() - started < 10_000, `no tab took over within 10 s after the leader was ${kind}: ${now}`);
        await sleep(10);
      }
      takeovers[kind] = Date.now() - started;
      await sleep(1_000);
    }
    await flow.stop();
    console.log(`takeover after the leader tab was closed / crashed / frozen: ${JSON.stringify(takeovers)} ms`);
    for (const ms of Object.values(takeovers)) assert.ok(ms < 3_000, `takeover took ${ms} ms`);
    await assertExactly([...live], ticks, ["takeover"], "the tabs left");
    // The frozen tab, resumed, catches up: once each, in order.
    await frozen.cdp.send("Debugger.resume");
    await frozen.cdp.send("Page.setWebLifecycleState", { state: "active" });
    await assertExactly([frozen.page], ticks, ["takeover"], "the frozen tab, resumed");
    assert.equal((await server.stats()).open_streams, 1);
  } finally {
    await stopFlow();
    await server.stop();
  }
});

test("a 401 stops every tab with the server's message; new credentials and reconnect() bring them all back on one stream", async () => {
  const server = await startServer({ staticDir: dist, token: "good" });
  try {
    const context = await profile();
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      await page.goto(`${server.origin}/tabs.html?channels=auth&token=bad`);
      pages.push(page);
    }
    for (const page of pages) {
      await page.waitForFunction(() => window.__status?.state === "unauthorized", null, { timeout: 15_000 });
      const status = await page.evaluate(() => window.__status);
      assert.equal(status.status, 401);
      assert.ok(status.message, "the server's message");
    }
    for (const page of pages) {
      await page.evaluate(() => {
        window.__token = "good";
        window.__reconnect();
      });
    }
    for (const page of pages) {
      await page.waitForFunction(() => window.__status?.state === "connected", null, { timeout: 15_000 });
    }
    assert.deepEqual((await roles(pages)).sort(), ["follower", "leader"]);
    assert.equal((await server.stats()).open_streams, 1);
    const ticks = new Ticks(server, { token: "good" });
    for (let i = 0; i < 10; i++) await ticks.emit("auth");
    await assertExactly(pages, ticks, ["auth"], "tabs after a 401");
  } finally {
    await server.stop();
  }
});

test("without Web Locks each tab keeps a stream of its own, and its status says so", async () => {
  const server = await startServer({ staticDir: dist });
  try {
    const context = await profile(() => {
      delete Navigator.prototype.locks;
    });
    const pages = [];
    for (let i = 0; i < 2; i++) pages.push(await openTab(context, server, "channels=unshared"));
    assert.deepEqual(await roles(pages), ["unshared", "unshared"]);
    assert.equal((await server.stats()).open_streams, 2);
    const ticks = new Ticks(server);
    for (let i = 0; i < 10; i++) await ticks.emit("unshared");
    await assertExactly(pages, ticks, ["unshared"], "unshared tabs");
  } finally {
    await server.stop();
  }
});
