// A deploy, measured: CLIENTS clients in PROCESSES Node processes hold a stream each from
// client-test-server on Redis; the server is stopped (SIGTERM: every stream gets
// `reconnect`), stays down DOWN_MS, and starts again on the same port. Measured until every
// client holds a stream again: the time, the reconnects per 100 ms, the server's peak CPU,
// and the 503s it answered. Two kinds of clients, alternating round by round in one run:
//   ours   `@realtime-rs/client` (exponential backoff with full jitter)
//   fixed  a loop that retries every 1 s, no jitter (what `@upstash/realtime` 1.1.0 does,
//          without its giving up after 3 tries)
//
//   cargo build --release -p realtime-tests --bin client-test-server
//   CLIENT_TEST_SERVER=<target>/release/client-test-server CLIENTS=2000 PROCESSES=4 \
//     ROUNDS=2 node scripts/stampede.mjs
//
// Environment: REDIS_URL (default redis://127.0.0.1:6379; a fresh key prefix per run),
// DOWN_MS (default 2000), MAX_STREAMS (the server's `--max-streams`, default none),
// ADMISSION (the server's `--max-opens-per-second`: a list, each value a run of its own;
// `0` none; default `0`), MODES (default `ours,fixed`). Not a test: docs/benchmarks.md
// records its figures.
import { fork } from "node:child_process";
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createClient } from "../packages/client/dist/index.js";
import { redisUrl, sleep, TestServer, uniquePrefix } from "../test/server.mjs";

const env = process.env;
const CHANNEL = "deploy";

if (process.argv[2] === "worker") await worker();
else await main();

/** One process's clients: reports each stream opened and each 503 to the parent. */
async function worker() {
  const url = env.STAMPEDE_URL;
  const count = Number(env.STAMPEDE_COUNT);
  const fixed = env.STAMPEDE_MODE === "fixed";
  const report = (message) => process.send?.(message);
  const counting = async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 503) report({ kind: "503" });
    return response;
  };
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per client
  process.on("message", (message) => {
    if (message === "stop") {
      stop.abort();
      setTimeout(() => process.exit(0), 200);
    }
  });
  for (let i = 0; i < count; i++) {
    if (fixed) void fixedClient(url, counting, report, stop.signal);
    else {
      const client = createClient({ url, fetch: counting });
      client.onStatus((status) => {
        if (status.state === "connected") report({ kind: "open", at: Date.now() });
      });
      client.subscribe({ channels: [CHANNEL], onEvent: () => undefined });
      stop.signal.addEventListener("abort", () => client.close());
    }
    if (i % 50 === 49) await sleep(20); // the first connections spread over a few seconds
  }
}

/** The `@upstash/realtime` 1.1.0 way: reconnect at once on `reconnect`, else every 1 s. */
async function fixedClient(url, fetcher, report, signal) {
  const decoder = new TextDecoder();
  while (!signal.aborted) {
    let asked = false;
    try {
      const response = await fetcher(`${url}?channel=${CHANNEL}`, { signal });
      if (response.ok && response.body) {
        report({ kind: "open", at: Date.now() });
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (decoder.decode(value).includes('"type":"reconnect"')) {
            asked = true;
            await reader.cancel().catch(() => undefined);
            break;
          }
        }
      } else await response.body?.cancel();
    } catch {
      // refused or cut: retry below
    }
    if (!asked) await sleep(1_000);
  }
}

/** CPU seconds the process `pid` used so far (user + system), from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return undefined;
  }
}

async function main() {
  const clients = Number(env.CLIENTS ?? 2000);
  const processes = Number(env.PROCESSES ?? 4);
  const rounds = Number(env.ROUNDS ?? 1);
  const downMs = Number(env.DOWN_MS ?? 2000);
  const modes = (env.MODES ?? "ours,fixed").split(",");
  const admissions = (env.ADMISSION ?? "0").split(",").map(Number);
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    for (const admission of admissions) {
      for (const mode of modes) {
        const result = await deploy({ mode, clients, processes, downMs, admission });
        results.push(result);
        console.log(JSON.stringify({ round, ...result }));
      }
    }
  }
  console.log("\nmode   | admission/s | clients | back after restart (all) | peak reconnects / 100 ms | server peak CPU | 503s");
  for (const r of results) {
    console.log(
      `${r.mode.padEnd(6)} | ${String(r.admission || "none").padStart(11)} | ${String(r.clients).padStart(7)} | ${`${r.allBackMs} ms`.padStart(24)} | ${String(r.peakPer100ms).padStart(24)} | ${`${r.peakCpu}%`.padStart(15)} | ${r.shed}`,
    );
  }
}

/** One deploy with `clients` of `mode`: connect them all, restart the server, watch them come back. */
async function deploy({ mode, clients, processes, downMs, admission }) {
  const options = { redis: redisUrl, prefix: uniquePrefix() };
  if (env.MAX_STREAMS) options.maxStreams = Number(env.MAX_STREAMS);
  const server = await new TestServer(options).start();
  // The first connections are not a deploy: admitted freely; the restart is bounded.
  if (admission) options.maxOpensPerSecond = admission;
  const opens = [];
  let shed = 0;
  const workers = [];
  const script = fileURLToPath(import.meta.url);
  for (let p = 0; p < processes; p++) {
    const count = Math.floor(clients / processes) + (p < clients % processes ? 1 : 0);
    const child = fork(script, ["worker"], {
      env: { ...env, STAMPEDE_URL: server.url, STAMPEDE_COUNT: String(count), STAMPEDE_MODE: mode },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.on("message", (message) => {
      if (message.kind === "open") opens.push(message.at);
      else if (message.kind === "503") shed++;
    });
    workers.push(child);
  }
  const openStreams = async () => (await server.stats().catch(() => ({ open_streams: -1 }))).open_streams;
  const connectedBy = Date.now() + 120_000;
  while ((await openStreams()) < clients) {
    if (Date.now() > connectedBy) throw new Error(`${mode}: only ${await openStreams()} of ${clients} connected within 120 s`);
    await sleep(200);
  }
  await sleep(2_000);
  opens.length = 0;
  shed = 0;

  await server.stop(); // SIGTERM: `reconnect` to every stream, then it exits
  await sleep(downMs);
  const restartedAt = Date.now();
  await server.start();
  const pid = server.child.pid;
  let peakCpu = 0;
  let last = { at: Date.now(), cpu: cpuSeconds(pid) ?? 0 };
  let allBackMs;
  const backBy = Date.now() + 180_000;
  while (allBackMs === undefined && Date.now() < backBy) {
    await sleep(100);
    const now = { at: Date.now(), cpu: cpuSeconds(pid) ?? last.cpu };
    peakCpu = Math.max(peakCpu, ((now.cpu - last.cpu) / ((now.at - last.at) / 1000)) * 100);
    last = now;
    if ((await openStreams()) >= clients) allBackMs = Date.now() - restartedAt;
  }
  const buckets = new Map();
  for (const at of opens) {
    const bucket = Math.floor((at - restartedAt) / 100);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
  }
  for (const child of workers) child.send("stop");
  await Promise.all(workers.map((child) => new Promise((resolve) => child.once("exit", resolve))));
  await server.stop();
  return {
    mode,
    admission,
    clients,
    allBackMs: allBackMs ?? "not within 180 s",
    reconnects: opens.length,
    peakPer100ms: Math.max(0, ...buckets.values()),
    peakCpu: Math.round(peakCpu),
    shed,
  };
}
