// Starts and stops the Rust test server (`client-test-server`, built by cargo) and private
// redis-servers for the client's tests. The server binary comes from CLIENT_TEST_SERVER,
// else from the cargo target folder.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const workspace = fileURLToPath(new URL("../..", import.meta.url));

/** The server binary. */
export function serverBinary() {
  const explicit = process.env.CLIENT_TEST_SERVER;
  if (explicit) return explicit;
  const target = process.env.CARGO_TARGET_DIR ?? `${workspace}target`;
  const binary = `${target}/debug/client-test-server`;
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: build it with \`cargo build -p realtime-tests --bin client-test-server\` (tests/client.rs does)`);
  }
  return binary;
}

/**
 * A free TCP port on 127.0.0.1, from 20000 up to the kernel's ephemeral range: a server
 * restarts on its port while clients open outgoing connections, whose local ports come
 * from that range and could take it in between; and Chromium refuses some lower ports.
 */
export async function freePort() {
  let ephemeral = 32768;
  try {
    ephemeral = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]) || ephemeral;
  } catch {
    // not Linux: the default
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * Math.max(1_000, ephemeral - 20_000));
    if (await canListen(port)) return port;
  }
  throw new Error("no free port found");
}

function canListen(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** The Redis of the tests. */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

let prefixes = 0;
/** A key prefix no other test run uses. */
export function uniquePrefix() {
  return `client-test-${process.pid}-${Date.now()}-${prefixes++}:`;
}

/**
 * A running test server: `url` of its endpoint, `stop()` (SIGTERM: streams get
 * `reconnect`), `kill()` (SIGKILL), `start()` again on the same port, `pause()`/`resume()`
 * (SIGSTOP/SIGCONT).
 */
export class TestServer {
  constructor(options = {}) {
    this.options = options;
    this.port = options.port;
    this.child = undefined;
  }

  get origin() {
    return `http://127.0.0.1:${this.port}`;
  }

  get url() {
    return `${this.origin}/api/realtime`;
  }

  async start() {
    this.port ??= await freePort();
    const args = ["serve", "--port", String(this.port), "--exit-with-parent"];
    const { redis, prefix, keepaliveMs, token, maxStreams, maxOpensPerSecond, staticDir, commandTimeoutMs } = this.options;
    if (redis) args.push("--redis", redis, "--prefix", prefix ?? uniquePrefix());
    if (keepaliveMs) args.push("--keepalive-ms", String(keepaliveMs));
    if (token) args.push("--token", token);
    if (maxStreams) args.push("--max-streams", String(maxStreams));
    if (maxOpensPerSecond) args.push("--max-opens-per-second", String(maxOpensPerSecond));
    if (commandTimeoutMs) args.push("--command-timeout-ms", String(commandTimeoutMs));
    if (staticDir) args.push("--static", staticDir);
    if (redis && !prefix) this.options.prefix = args[args.indexOf("--prefix") + 1];
    const child = spawn(serverBinary(), args, { stdio: ["pipe", "pipe", "inherit"] });
    this.child = child;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the test server did not start within 20 s")), 20_000);
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("listening on")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the test server exited with ${code} before listening`));
      });
    });
    return this;
  }

  async #signal(signal) {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  stop() {
    return this.#signal("SIGTERM");
  }

  kill() {
    return this.#signal("SIGKILL");
  }

  pause() {
    this.child?.kill("SIGSTOP");
  }

  resume() {
    this.child?.kill("SIGCONT");
  }

  async stats() {
    const response = await fetch(`${this.origin}/stats`);
    return response.json();
  }
}

/** Starts a test server with `options` (see `TestServer`). */
export function startServer(options = {}) {
  return new TestServer(options).start();
}

/** A private redis-server on a free port, for tests that freeze or kill it. */
export async function startPrivateRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    if (await answers(port)) break;
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    stop: async () => {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    },
  };
}

function answers(port) {
  return new Promise((resolve) => {
    import("node:net").then(({ connect }) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  });
}

/** Resolves after `ms`. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true, failing after `ms`. */
export async function eventually(check, ms = 10_000, what = "the condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await sleep(20);
  }
}

/** Emits through the HTTP emit route with a plain fetch; returns the id. */
export async function emitVia(url, channel, event, data, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ channel, event, data }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`emit refused: ${response.status} ${JSON.stringify(body)}`);
  return body.id;
}
