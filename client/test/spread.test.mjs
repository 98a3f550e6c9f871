// 200 clients lose their server, which comes back 3 s later: with backoff and full jitter
// their reconnects spread over seconds; with a fixed 1 s retry and no jitter (what the
// @upstash/realtime client does) they all come back in the same quarter second. Both in
// the same run; the histograms (connections per 250 ms after the server is back) are
// printed, with the most reconnects within any 250 ms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "../packages/client/dist/index.js";
import { eventually, sleep, startServer } from "./server.mjs";

const CLIENTS = 200;
const BUCKET_MS = 250;

/** Times of successful stream opens, through a counting `fetch`. */
function recorder() {
  const opens = [];
  const fetchAndRecord = async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 200 && (response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      opens.push(Date.now());
    }
    return response;
  };
  return { opens, fetch: fetchAndRecord };
}

/** A client that retries every `ms` exactly, as @upstash/realtime 1.1.0 does. */
function fixedRetryClient(url, ms, record) {
  let stopped = false;
  const controller = new AbortController();
  (async () => {
    while (!stopped) {
      try {
        const response = await record.fetch(`${url}?channel=sp-1`, { signal: controller.signal });
        if (response.ok) {
          const reader = response.body.getReader();
          while (!(await reader.read()).done) {}
        }
      } catch {
        // a refused or dropped connection: retry
      }
      if (!stopped) await sleep(ms);
    }
  })();
  return () => {
    stopped = true;
    controller.abort();
  };
}

function histogram(opens, from) {
  const buckets = [];
  for (const at of opens) {
    if (at < from) continue;
    const index = Math.floor((at - from) / BUCKET_MS);
    buckets[index] = (buckets[index] ?? 0) + 1;
  }
  return Array.from(buckets, (count) => count ?? 0);
}

/** The most opens within any 250 ms (a window sliding over the opens). */
function busiestWindow(opens) {
  const sorted = [...opens].sort((a, b) => a - b);
  let peak = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= BUCKET_MS) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

async function outage(server, record) {
  const before = record.opens.length;
  await server.kill();
  await sleep(3_000);
  await server.start();
  const back = Date.now();
  await eventually(() => record.opens.length - before >= CLIENTS, 60_000, `all ${CLIENTS} clients back`);
  const opens = record.opens.slice(before);
  return { histogram: histogram(opens, back), allBackMs: Math.max(...opens) - back, peak: busiestWindow(opens) };
}

test(`${CLIENTS} clients after a restart: reconnects spread with jitter, bunched with a fixed 1 s retry`, async () => {
  const server = await startServer({});
  // Ours.
  const ours = recorder();
  const clients = Array.from({ length: CLIENTS }, () => {
    const client = createClient({ url: server.url, fetch: ours.fetch });
    client.subscribe({ channels: ["sp-1"], onEvent: () => {} });
    return client;
  });
  await eventually(() => ours.opens.length >= CLIENTS, 30_000);
  const jittered = await outage(server, ours);
  for (const client of clients) client.close();
  // The fixed retry, same server, same outage.
  const fixed = recorder();
  const stops = Array.from({ length: CLIENTS }, () => fixedRetryClient(server.url, 1_000, fixed));
  await eventually(() => fixed.opens.length >= CLIENTS, 30_000);
  const bunched = await outage(server, fixed);
  for (const stop of stops) stop();
  await server.stop();

  const peak = (result) => result.peak;
  console.log(`# backoff with full jitter: all back in ${jittered.allBackMs} ms, at most ${jittered.peak} in any ${BUCKET_MS} ms; per ${BUCKET_MS} ms: ${jittered.histogram.join(" ")}`);
  console.log(`# fixed 1 s retry: all back in ${bunched.allBackMs} ms, at most ${bunched.peak} in any ${BUCKET_MS} ms; per ${BUCKET_MS} ms: ${bunched.histogram.join(" ")}`);
  assert.ok(peak(bunched) >= CLIENTS * 0.4, `the fixed retry bunches (peak ${peak(bunched)} of ${CLIENTS})`);
  assert.ok(peak(jittered) <= CLIENTS * 0.2, `jitter spreads (peak ${peak(jittered)} of ${CLIENTS})`);
  assert.ok(peak(bunched) >= 3 * peak(jittered), `jitter spreads at least 3 times as wide`);
});
