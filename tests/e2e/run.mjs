// The browser end-to-end driver: the unmodified @upstash/realtime 1.1.0 client, in headless
// Chromium, against the Rust SSE endpoint (e2e-server). Run by tests/browser.rs:
//
//   node tests/e2e/run.mjs --server <e2e-server> --redis <url> --prefix <pfx> --port <p> \
//     --dist <dir> [--screenshot <png>] [--chromium /usr/bin/chromium] [--plain-axum]
//
// Steps (each with a timeout and a clear failure message; exit code 1 on any failure):
//   a. start the server, open the page, wait for status `connected`
//   b. emit interleaved typed events on room-a and room-b over POST /api/realtime; the page
//      gets exactly those, in order per channel, data deep-equal; an invalid one is refused
//   c. click #join-c; the client reconnects for room-a, room-b and room-c; room-c events
//      arrive, and nothing on room-a/room-b is delivered twice
//   d. crash the server (SIGKILL), emit while it is down (e2e-server emit), restart it on
//      the same port: the page gets every missed event once, in order; then the same with
//      a graceful stop (SIGTERM: open streams get `reconnect` first)
//   e. screenshot, summary
//
// The invariant checked after every step: for every channel, the events the page received
// are exactly the events emitted to it (same order, same data, none twice, none missing).
// Every event is unique (ticks carry a run-wide increasing number), so a duplicate is
// always visible.

import { spawn, execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, "..", "..");

const { values: opts } = parseArgs({
  options: {
    server: { type: "string" },
    redis: { type: "string" },
    prefix: { type: "string" },
    port: { type: "string" },
    dist: { type: "string", default: join(here, "dist") },
    screenshot: { type: "string", default: join(workspace, "target", "e2e-screenshot.png") },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    "plain-axum": { type: "boolean", default: false },
  },
});
for (const name of ["server", "redis", "prefix", "port"]) {
  if (!opts[name]) {
    console.error(`run.mjs: missing --${name}`);
    process.exit(2);
  }
}

const PORT = Number(opts.port);
const BASE = `http://127.0.0.1:${PORT}`;
const API = `${BASE}/api/realtime`;
const started = Date.now();

function log(...parts) {
  const secs = ((Date.now() - started) / 1000).toFixed(2).padStart(6);
  console.log(`[e2e ${secs}s]`, ...parts);
}

class StepFailure extends Error {}

function fail(message) {
  throw new StepFailure(message);
}

function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

/** Rejects with `message` if `promise` takes longer than `ms`. */
async function within(ms, message, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StepFailure(`${message} (timed out after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` (async, returns truthy when done) every `every` ms for up to `ms`. */
async function waitUntil(ms, message, check, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) {
      const detail = typeof message === "function" ? await message() : message;
      fail(`${detail} (timed out after ${ms} ms)`);
    }
    await sleep(every);
  }
}

// ---------------------------------------------------------------------------------------
// The server process

/** Calls `onLine` with every complete line read from `stream`. */
function eachLine(stream, onLine) {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  stream.on("end", () => buffer && onLine(buffer));
}

class Server {
  constructor() {
    this.child = null;
    this.exited = null;
    this.starts = 0;
  }

  /** Starts the server; retries for a few seconds while the port is still taken. */
  async start() {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.spawnOnce();
      if (outcome.ok) return;
      if (!/cannot listen/.test(outcome.stderr) || attempt >= 25) {
        fail(`the server exited before listening: ${JSON.stringify(outcome.exit)}\n${outcome.stderr}`);
      }
      log(`port ${PORT} is still taken; retrying`);
      await sleep(200);
    }
  }

  async spawnOnce() {
    this.starts += 1;
    const args = ["serve", "--port", String(PORT), "--redis", opts.redis, "--prefix", opts.prefix];
    args.push("--static", opts.dist, "--exit-with-parent");
    if (opts["plain-axum"]) args.push("--plain-axum");
    const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn,realtime_axum=debug" };
    const child = spawn(opts.server, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    const tag = `[server#${this.starts}]`;
    let stderr = "";
    this.exited = new Promise((done) => {
      // `close`: the process ended and its output has been read to the end.
      child.on("close", (code, signal) => done({ code, signal }));
      child.on("error", (error) => done({ code: null, signal: null, error }));
    });
    const ready = new Promise((done) => {
      eachLine(child.stdout, (line) => {
        console.log(tag, line);
        if (line.startsWith("listening on ")) done();
      });
    });
    eachLine(child.stderr, (line) => {
      stderr += `${line}\n`;
      console.log(tag, line);
    });
    const outcome = await within(
      20_000,
      `the server did not print "listening on" (${opts.server})`,
      Promise.race([ready.then(() => "ready"), this.exited]),
    );
    return outcome === "ready" ? { ok: true } : { ok: false, exit: outcome, stderr };
  }

  /** Sends `signal` and waits for the process to end; returns how long that took. */
  async stop(signal) {
    const child = this.child;
    const begin = Date.now();
    child.kill(signal);
    const result = await within(15_000, `the server did not exit after ${signal}`, this.exited);
    this.child = null;
    return { ...result, ms: Date.now() - begin };
  }

  kill() {
    if (this.child && this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------------------------------
// Emitting, and what was emitted

/** Every event emitted, in emit order: { channel, event, data, id, via }. */
const sent = [];
let nextTick = 1;

async function emitHttp(channel, event, data) {
  const response = await fetch(API, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, event, data }),
  });
  const body = await response.json().catch(() => null);
  if (response.status !== 200 || !body?.id) {
    fail(`POST ${API} ${JSON.stringify({ channel, event, data })}: ${response.status} ${JSON.stringify(body)}`);
  }
  sent.push({ channel, event, data, id: body.id, via: "http" });
  return body.id;
}

function emitCli(channel, event, data) {
  const args = ["emit", "--redis", opts.redis, "--prefix", opts.prefix];
  args.push("--channel", channel, "--event", event, "--data", JSON.stringify(data));
  return new Promise((done, reject) => {
    execFile(opts.server, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const id = String(stdout).trim();
      if (error || !/^\d+-\d+$/.test(id)) {
        reject(new StepFailure(`e2e-server emit ${channel} ${event} failed: ${error?.message ?? ""} ${stderr}`));
        return;
      }
      sent.push({ channel, event, data, id, via: "cli" });
      done(id);
    });
  });
}

const tick = (channel, emit = emitHttp) => emit(channel, "counter.tick", nextTick++);

// ---------------------------------------------------------------------------------------
// What the page received

const key = (e) => `${e.channel}|${e.event}|${JSON.stringify(e.data)}`;
const short = (e) => (e.event === "counter.tick" ? `${e.data}` : `${e.event}:${JSON.stringify(e.data)}`);

async function received(page) {
  return page.evaluate(() => window.__events.map((e) => ({ channel: e.channel, event: e.event, data: e.data })));
}

function byChannel(events) {
  const map = new Map();
  for (const e of events) {
    if (!map.has(e.channel)) map.set(e.channel, []);
    map.get(e.channel).push(e);
  }
  return map;
}

/** Differences between what was sent and what the page got, per channel; [] when equal. */
function differences(got) {
  const problems = [];
  const want = byChannel(sent);
  const have = byChannel(got);
  const channels = new Set([...want.keys(), ...have.keys()]);
  for (const channel of channels) {
    const w = (want.get(channel) ?? []).map(({ channel, event, data }) => ({ channel, event, data }));
    const h = have.get(channel) ?? [];
    if (isDeepStrictEqual(w, h)) continue;
    const counts = new Map();
    for (const e of h) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k.split("|").slice(1).join(" ")} x${n}`);
    const wanted = new Set(w.map(key));
    const missing = w.filter((e) => !counts.has(key(e))).map(short);
    const extra = h.filter((e) => !wanted.has(key(e))).map(short);
    problems.push(
      `${channel}:\n    sent     [${w.map(short).join(", ")}]\n    received [${h.map(short).join(", ")}]` +
        (dups.length ? `\n    DUPLICATES: ${dups.join("; ")}` : "") +
        (missing.length ? `\n    MISSING: ${missing.join(", ")}` : "") +
        (extra.length ? `\n    NEVER SENT: ${extra.join(", ")}` : "") +
        (!dups.length && !missing.length && !extra.length ? "\n    ORDER DIFFERS" : ""),
    );
  }
  return problems;
}

/**
 * Waits until every emitted event has reached the page, lets late duplicates show up for
 * `settleMs`, then checks that each channel's events are exactly the emitted ones.
 */
async function expectExactly(page, label, ms = 15_000, settleMs = 750) {
  await waitUntil(
    ms,
    async () => `${label}: not every emitted event reached the page\n  ${differences(await received(page)).join("\n  ")}`,
    async () => {
      const got = new Set((await received(page)).map(key));
      return sent.every((e) => got.has(key(e)));
    },
  );
  await sleep(settleMs);
  const problems = differences(await received(page));
  if (problems.length) fail(`${label}: the page's events differ from the emitted ones\n  ${problems.join("\n  ")}`);
  log(`ok: ${label}: ${sent.length} events, each exactly once, in order per channel`);
}

async function status(page) {
  return page.evaluate(() => window.__status);
}

async function waitConnected(page, label, ms = 15_000) {
  await waitUntil(
    ms,
    async () => `${label}: the client's status is "${await status(page)}", not "connected"`,
    async () => (await status(page)) === "connected",
  );
}

// ---------------------------------------------------------------------------------------
// The run

const server = new Server();
let browser;
let page;
const streams = []; // { at, status, lastEventId, url }
const frames = []; // SSE messages the browser received: { at, data }
const timings = {};

async function step(name, fn) {
  const begin = Date.now();
  log(`--- ${name}`);
  await fn();
  timings[name] = Date.now() - begin;
}

async function main() {
  await mkdir(dirname(opts.screenshot), { recursive: true });

  await step("a. start the server, open the page, connect", async () => {
    await server.start();
    browser = await within(
      30_000,
      `cannot launch ${opts.chromium}`,
      chromium.launch({
        executablePath: opts.chromium,
        headless: true,
        args: [
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      }),
    );
    log(`chromium ${browser.version()}`);
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    page = await context.newPage();
    page.on("console", (message) => log(`[page ${message.type()}]`, message.text()));
    page.on("pageerror", (error) => log("[page error]", error.message));
    page.on("response", async (response) => {
      const request = response.request();
      if (!request.url().startsWith(API) || request.method() !== "GET") return;
      const headers = await request.allHeaders().catch(() => request.headers());
      const entry = {
        at: Date.now(),
        status: response.status(),
        lastEventId: headers["last-event-id"] ?? null,
        url: decodeURIComponent(request.url().slice(API.length)),
      };
      streams.push(entry);
      log(`[stream] ${entry.status}${entry.lastEventId ? ` (Last-Event-ID ${entry.lastEventId})` : ""} ${entry.url}`);
    });
    page.on("requestfailed", (request) => {
      if (request.url().startsWith(API)) log(`[stream] failed: ${request.failure()?.errorText}`);
    });
    const cdp = await context.newCDPSession(page);
    cdp.on("Network.eventSourceMessageReceived", ({ data }) => frames.push({ at: Date.now(), data }));
    await cdp.send("Network.enable");

    await within(15_000, `cannot open ${BASE}/`, page.goto(`${BASE}/`));
    await waitConnected(page, "first connect");
    // The client may open the stream a moment before the server's `connected` frames;
    // wait for them so that nothing emitted next can fall before the subscription.
    await waitUntil(5_000, "no `connected` frames for room-a and room-b", () =>
      ["room-a", "room-b"].every((c) => frames.some((f) => f.data.includes(`"type":"connected","channel":"${c}"`))),
    );
    log("ok: page connected:", JSON.stringify(streams.map((s) => s.url)));
  });

  await step("b. typed events on room-a and room-b", async () => {
    for (let i = 0; i < 10; i++) await tick(i % 2 === 0 ? "room-a" : "room-b");
    await emitHttp("room-a", "chat.message", {
      author: 'Zoë "zed" O\'Brien',
      text: 'quotes " \' ` and \\ backslash, <b>html</b>, 日本語, emoji 🚀👩‍💻, line\nbreak',
    });
    await emitHttp("room-b", "chat.typing", "Zoë 🚀");
    for (let i = 0; i < 4; i++) await tick(i % 2 === 0 ? "room-b" : "room-a");
    // Refused by the schema (text must be 1..280 characters): 422, nothing delivered.
    const refused = await fetch(API, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel: "room-a", event: "chat.message", data: { author: "x", text: "" } }),
    });
    if (refused.status !== 422) fail(`an empty chat.message was not refused with 422 but ${refused.status}`);
    await expectExactly(page, "interleaved room-a/room-b events");
  });

  await step("c. join room-c (the client reconnects with its cursors)", async () => {
    const before = streams.length;
    await page.click("#join-c");
    // Until the client has reconnected, room-c events only reach the page by replay;
    // keep emitting until one arrives.
    await waitUntil(10_000, "no room-c event reached the page after #join-c", async () => {
      await tick("room-c");
      return (await received(page)).some((e) => e.channel === "room-c");
    }, 200);
    await waitConnected(page, "after #join-c");
    const reconnect = await waitUntil(5_000, "the client did not open a stream that includes room-c", () =>
      streams.slice(before).find((s) => s.status === 200 && s.url.includes("room-c")),
    );
    log(`the client reconnected with: ${reconnect.url}`);
    for (let i = 0; i < 6; i++) await tick(["room-a", "room-b", "room-c"][i % 3]);
    await expectExactly(page, "after joining room-c");
  });

  for (const signal of ["SIGKILL", "SIGTERM"]) {
    await step(`d. ${signal} the server, emit while it is down, restart`, async () => {
      const framesBefore = frames.length;
      const stopped = await server.stop(signal);
      log(`server stopped by ${signal} in ${stopped.ms} ms (code ${stopped.code}, signal ${stopped.signal})`);
      if (signal === "SIGTERM" && stopped.code !== 0) fail(`the server did not exit cleanly on SIGTERM: ${JSON.stringify(stopped)}`);
      if (signal === "SIGTERM") {
        await waitUntil(3_000, "a graceful stop did not send the page a `reconnect` frame", () =>
          frames.slice(framesBefore).some((f) => f.data.includes('"type":"reconnect"')),
        );
        log("ok: the page got a `reconnect` frame before the server exited");
      }
      const down = Date.now();
      for (let i = 0; i < 8; i++) await tick(i % 2 === 0 ? "room-a" : "room-c", emitCli);
      log(`emitted 8 events while the server was down (${Date.now() - down} ms)`);
      await server.start();
      await expectExactly(page, `everything emitted while down (${signal})`, 30_000, 1_500);
      await waitConnected(page, `after the ${signal} restart`);
      for (let i = 0; i < 3; i++) await tick(["room-a", "room-b", "room-c"][i]);
      await expectExactly(page, `live again after the ${signal} restart`);
    });
  }

  await step("e. screenshot", async () => {
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    log(`screenshot: ${opts.screenshot}`);
  });
}

let code = 0;
try {
  await main();
} catch (error) {
  code = 1;
  const message = error instanceof StepFailure ? error.message : error?.stack ?? String(error);
  console.error(`\nE2E FAILED: ${message}`);
  if (page) {
    const failure = opts.screenshot.replace(/(\.png)?$/, "-failure.png");
    await page.screenshot({ path: failure, fullPage: true }).then(
      () => console.error(`failure screenshot: ${failure}`),
      () => {},
    );
    const state = await page
      .evaluate(() => ({ status: window.__status, statusLog: window.__statusLog, events: window.__events.length }))
      .catch(() => null);
    console.error("page state:", JSON.stringify(state));
  }
} finally {
  server.kill();
  await browser?.close().catch(() => {});
}

const byStatus = {};
for (const s of streams) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
console.log("\nsummary:");
console.log(`  events emitted: ${sent.length} (${sent.filter((e) => e.via === "cli").length} while the server was down)`);
console.log(`  stream requests by status: ${JSON.stringify(byStatus)}; with Last-Event-ID: ${streams.filter((s) => s.lastEventId).length}`);
console.log(`  SSE frames seen by the browser: ${frames.length} (${frames.filter((f) => f.data.includes('"type":"ping"')).length} pings, ${frames.filter((f) => f.data.includes('"type":"reconnect"')).length} reconnect)`);
for (const [name, ms] of Object.entries(timings)) console.log(`  ${(ms / 1000).toFixed(2).padStart(6)} s  ${name}`);
console.log(`  total ${((Date.now() - started) / 1000).toFixed(2)} s: ${code === 0 ? "PASSED" : "FAILED"}`);
process.exit(code);
