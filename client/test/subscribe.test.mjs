// The core's API against the real server, on the embedded backend and on Redis: filters,
// history (the route and subscriptions that start with it), emit and its refusals,
// presence, and validation of incoming events with the app's schemas.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { createClient, RealtimeError } from "../packages/client/dist/index.js";
import { validateWith } from "../packages/client/dist/validate.js";
import { emitVia, eventually, redisUrl, sleep, startServer } from "./server.mjs";

const SCHEMAS = {
  "chat.message": z.object({ author: z.string(), text: z.string().min(1).max(10) }),
  "counter.tick": z.number().int().min(0),
  "presence.joined": z.object({ member: z.string(), info: z.object({ name: z.string() }) }),
  "presence.left": z.object({ member: z.string(), info: z.object({ name: z.string() }) }),
};

for (const backend of ["memory", "redis"]) {
  const server = await startServer(backend === "redis" ? { redis: redisUrl } : {});
  after(() => server.stop());
  const client = (options = {}) => createClient({ url: server.url, ...options });

  test(`${backend}: a subscription gets its channels' events of the kinds it asks for, in order`, async () => {
    const rt = client();
    const got = [];
    const stop = rt.subscribe({ channels: ["f-a", "f-b"], events: ["counter.tick"], onEvent: (event) => got.push(event) });
    await eventually(() => rt.status.state === "connected");
    await sleep(100);
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await emitVia(server.url, i % 2 ? "f-a" : "f-b", "counter.tick", i));
    await emitVia(server.url, "f-a", "chat.message", { author: "ada", text: "not asked for" });
    await emitVia(server.url, "f-other", "counter.tick", 99);
    await eventually(() => got.length >= 6);
    await sleep(200);
    assert.deepEqual(got.map((event) => event.id), ids);
    assert.deepEqual(got.map((event) => event.data), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(got.map((event) => event.channel), ["f-b", "f-a", "f-b", "f-a", "f-b", "f-a"]);
    assert.ok(got.every((event) => event.event === "counter.tick"));
    stop();
    rt.close();
  });

  test(`${backend}: history reads the newest, pages back and forward, and filters by event`, async () => {
    const rt = client();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await emitVia(server.url, "h-1", "counter.tick", i));
    ids.push(await emitVia(server.url, "h-1", "chat.message", { author: "ada", text: "hi" }));
    const newest = await rt.history("h-1", { limit: 3 });
    assert.deepEqual(newest.map((event) => event.id), ids.slice(3));
    const back = await rt.history("h-1", { limit: 2, before: ids[3] });
    assert.deepEqual(back.map((event) => event.id), ids.slice(1, 3));
    const forward = await rt.history("h-1", { limit: 2, after: ids[0] });
    assert.deepEqual(forward.map((event) => event.id), ids.slice(1, 3));
    const ticks = await rt.history("h-1", { events: ["counter.tick"], limit: 2 });
    assert.deepEqual(ticks.map((event) => event.data), [3, 4]);
    const messages = await rt.history("h-1", { events: ["chat.message"] });
    assert.deepEqual(messages.map((event) => event.data), [{ author: "ada", text: "hi" }]);
    await assert.rejects(rt.history("h-1", { limit: 5000 }), (error) => {
      assert.ok(error instanceof RealtimeError);
      assert.equal(error.status, 400);
      assert.match(error.message, /invalid limit `5000`: expected a whole number from 1 to 1000/);
      return true;
    });
    rt.close();
  });

  test(`${backend}: a subscription with history gets the newest stored events, then live ones, each once`, async () => {
    const rt = client();
    const stored = [];
    for (let i = 0; i < 4; i++) stored.push(await emitVia(server.url, "hs-1", "counter.tick", i));
    const got = [];
    rt.subscribe({ channels: ["hs-1"], history: 2, onEvent: (event) => got.push(event.id) });
    await eventually(() => got.length === 2);
    const live = await emitVia(server.url, "hs-1", "counter.tick", 4);
    await eventually(() => got.length === 3);
    // A second subscription joins the live channel later: its history ends where the
    // channel stands, and the next event reaches both once.
    const later = [];
    rt.subscribe({ channels: ["hs-1"], history: 3, onEvent: (event) => later.push(event.id) });
    await eventually(() => later.length === 3);
    assert.deepEqual(later, [...stored.slice(2), live]);
    const next = await emitVia(server.url, "hs-1", "counter.tick", 5);
    await eventually(() => got.length === 4 && later.length === 4);
    await sleep(100);
    assert.deepEqual(got, [...stored.slice(2), live, next]);
    assert.deepEqual(later, [...stored.slice(2), live, next]);
    rt.close();
  });

  test(`${backend}: a subscription whose history cannot be read reports it and still gets every live event`, async () => {
    // The endpoint without a history route: its requests answer 404.
    const noHistory = (input, init) =>
      String(input).includes("/history?")
        ? Promise.resolve(new Response(JSON.stringify({ error: "no such route" }), { status: 404 }))
        : fetch(input, init);
    const rt = client({ fetch: noHistory });
    await emitVia(server.url, "nh-1", "counter.tick", 0); // stored: history to read
    const got = [];
    const issues = [];
    rt.subscribe({ channels: ["nh-1"], history: 10, onEvent: (event) => got.push(event.data), onError: (issue) => issues.push(issue) });
    await eventually(() => issues.length === 1);
    assert.match(issues[0].message, /history: no such route/);
    await emitVia(server.url, "nh-1", "counter.tick", 1);
    await emitVia(server.url, "nh-1", "counter.tick", 2);
    await eventually(() => got.length === 2);
    assert.deepEqual(got, [1, 2]);
    rt.close();
  });

  test(`${backend}: emit resolves to the stored id; a refusal rejects with the server's message, event and path`, async () => {
    const rt = client();
    const id = await rt.emit("e-1", "chat.message", { author: "ada", text: "hello" });
    const [stored] = await rt.history("e-1", { limit: 1 });
    assert.equal(stored.id, id);
    await assert.rejects(rt.emit("e-1", "chat.message", { author: "ada", text: "" }), (error) => {
      assert.equal(error.status, 422);
      assert.equal(error.event, "chat.message");
      assert.equal(error.path, "/text");
      assert.match(error.message, /shorter than 1 character/);
      return true;
    });
    await assert.rejects(rt.emit("bad name!", "counter.tick", 1), (error) => error.status === 400 && /invalid channel name/.test(error.message));
    rt.close();
  });

  test(`${backend}: emit is validated with the app's schemas before it is sent`, async () => {
    let sent = 0;
    const counting = (input, init) => {
      if (init?.method === "POST") sent++;
      return fetch(input, init);
    };
    const rt = client({ validate: validateWith(SCHEMAS), fetch: counting });
    await assert.rejects(rt.emit("v-1", "chat.message", { author: "ada", text: "x".repeat(20) }), (error) => {
      assert.equal(error.status, 422);
      assert.equal(error.path, "/text");
      return true;
    });
    assert.equal(sent, 0, "nothing sent");
    rt.close();
  });

  test(`${backend}: an incoming event that breaks the app's schema goes to onError with its path; the stream goes on`, async () => {
    const rt = client({ validate: validateWith(SCHEMAS) });
    const got = [];
    const issues = [];
    rt.subscribe({ channels: ["v-2"], onEvent: (event) => got.push(event.data), onError: (issue) => issues.push(issue) });
    await eventually(() => rt.status.state === "connected");
    await sleep(100);
    // The server accepts up to 280 characters; the app's schema only 10.
    const long = await emitVia(server.url, "v-2", "chat.message", { author: "ada", text: "x".repeat(20) });
    await emitVia(server.url, "v-2", "chat.message", { author: "ada", text: "short" });
    await eventually(() => got.length === 1);
    assert.deepEqual(got, [{ author: "ada", text: "short" }]);
    assert.equal(issues.length, 1);
    assert.equal(issues[0].kind, "invalid-event");
    assert.equal(issues[0].event, "chat.message");
    assert.equal(issues[0].path, "/text");
    assert.equal(issues[0].id, long);
    assert.equal(rt.stats.invalidEvents, 1);
    rt.close();
  });

  test(`${backend}: an exception in onEvent goes to onError; it neither stops the stream nor skips the next subscriber`, async () => {
    const rt = client();
    const got = [];
    const issues = [];
    rt.subscribe({
      channels: ["x-1"],
      onEvent: () => {
        throw new Error("app bug");
      },
      onError: (issue) => issues.push(issue),
    });
    rt.subscribe({ channels: ["x-1"], onEvent: (event) => got.push(event.data) });
    await eventually(() => rt.status.state === "connected");
    await sleep(100);
    await emitVia(server.url, "x-1", "counter.tick", 1);
    await emitVia(server.url, "x-1", "counter.tick", 2);
    await eventually(() => got.length === 2);
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual(issues.map((issue) => [issue.kind, issue.message, issue.event]), [
      ["callback", "Error: app bug", "counter.tick"],
      ["callback", "Error: app bug", "counter.tick"],
    ]);
    rt.close();
  });

  test(`${backend}: presence lists the members, follows joins and leaves, and reads again after a reconnect`, async () => {
    const watcher = client({ keepaliveMs: 1000 });
    const lists = [];
    watcher.presence("room-p", (members) => lists.push(members.map((member) => `${member.member}:${member.info.name}`)));
    const ada = client({ headers: { "x-member": "ada" } });
    ada.subscribe({ channels: ["room-p"], onEvent: () => {} });
    await eventually(() => lists.at(-1)?.join() === "ada:ada");
    const bob = client({ headers: { "x-member": "bob" } });
    bob.subscribe({ channels: ["room-p"], onEvent: () => {} });
    await eventually(() => lists.at(-1)?.join() === "ada:ada,bob:bob");
    // The server lets a member linger 5 s after its last stream closes.
    bob.close();
    await eventually(() => lists.at(-1)?.join() === "ada:ada", 15_000, "bob's leave");
    // The watcher's stream is replaced: the list is read again and stays right.
    const reads = lists.length;
    watcher.reconnect();
    ada.close();
    await eventually(() => lists.length > reads && lists.at(-1)?.length === 0, 15_000, "ada's leave");
    watcher.close();
  });
}

