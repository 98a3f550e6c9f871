// The inspector (`/_realtime`) in headless Chromium, against two chat servers over one Redis.
// Usage: node inspector-e2e.mjs <url-a> <url-b> <redis-url> <redis-prefix> <admin-token> <out-dir>
//
// 1. Without the admin token (none, or a wrong one) every api/ route answers 401, and the
//    page asks for the token.
// 2. Events: every chat event with its doc, example and TypeScript.
// 3. Channels: a channel's live tail on server A shows an event emitted through server B
//    (another process); an entry written straight into Redis that breaks the schema shows
//    in the history flagged with its JSON path and rule.
// 4. Emit: an invalid message is refused in the page with its path and not stored; a valid
//    one is stored and its id shown.
// 5. Presence: ada opens the chat on server A in another browser; the presence view lists
//    her (a join seen live); the channels server A serves list her room; she closes her
//    page and the presence view sees her leave.
// 6. Health: the backend is Redis with its node listed, and the charts have samples.
// A screenshot of each view goes to <out-dir>/<view>.png. Exits 1 with a message on the
// first failed expectation.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [urlA, urlB, redisUrl, prefix, token, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node inspector-e2e.mjs <url-a> <url-b> <redis-url> <redis-prefix> <admin-token> <out-dir>");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const base = (url) => new URL("_realtime", url).href;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const fail = async (message) => {
  console.error(`inspector-e2e: ${message}`);
  await browser.close();
  process.exit(1);
};
const expect = async (condition, message) => {
  if (!condition) await fail(message);
};
const tag = Date.now().toString(36);
const channel = `room-insp${tag}`;

// 1. The admin credential is required.
for (const [name, headers] of [
  ["no token", {}],
  ["a wrong token", { authorization: "Bearer not-the-admin-token-at-all" }],
]) {
  for (const path of ["/api/info", "/api/health", "/api/channels", `/api/channels/${channel}/history`]) {
    const response = await fetch(base(urlA) + path, { headers });
    await expect(response.status === 401, `${path} with ${name} answered ${response.status}, expected 401`);
  }
  const emitted = await fetch(`${base(urlA)}/api/channels/${channel}/emit`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ event: "chat.message", data: { author: "x", room: "x", text: "x" } }),
  });
  await expect(emitted.status === 401, `emit with ${name} answered ${emitted.status}, expected 401`);
}
const history = await fetch(`${base(urlA)}/api/channels/${channel}/history`, { headers: { authorization: `Bearer ${token}` } });
await expect((await history.json()).entries.length === 0, "a new channel has no history");

const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (error) => errors.push(error.message));
await page.goto(base(urlA));
await page.waitForSelector("form.login:not([hidden])", { timeout: 10000 }).catch(() => fail("the page did not ask for the token"));
await page.fill('form.login input[name="token"]', token);
await page.click("form.login button");

// 2. Events.
await page.waitForSelector(".event-card", { timeout: 10000 }).catch(() => fail("the events view shows no event"));
const cards = await page.$$eval(".event-card", (nodes) =>
  nodes.map((node) => ({
    name: node.querySelector("h3")?.textContent,
    doc: node.querySelector(".doc")?.textContent,
    example: node.querySelector("details[open] pre")?.textContent ?? "",
    typescript: node.querySelector("pre.ts")?.textContent ?? "",
  })),
);
const names = cards.map((card) => card.name);
await expect(
  JSON.stringify(names) === JSON.stringify(["chat.message", "chat.typing", "presence.joined", "presence.left", "room.created"]),
  `events listed: ${JSON.stringify(names)}`,
);
const message = cards[0];
await expect(message.doc === "A message in a room.", `chat.message's doc: ${message.doc}`);
await expect(JSON.parse(message.example).text === "example", `chat.message's example: ${message.example}`);
await expect(message.typescript.includes("export const ChatMessage = z.object("), "chat.message's TypeScript has its zod schema");
await page.screenshot({ path: join(outDir, "events.png"), fullPage: false });

// 3. Channels: a live tail on A, an emit through B.
await page.click('nav a[data-view="channels"]');
await page.fill('form.open input[name="channel"]', channel);
await page.click('form.open button[type="submit"]');
await page.waitForSelector(".tail-status", { timeout: 10000 });
await page.waitForTimeout(500); // the tail's feed is open once its response started
const fromB = await fetch(`${base(urlB)}/api/channels/${channel}/emit`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ event: "chat.message", data: { author: "bob", room: `insp${tag}`, text: "from server B" }, key: `b-${tag}` }),
});
await expect(fromB.ok, `emit through server B answered ${fromB.status}`);
const idFromB = (await fromB.json()).id;
await page
  .waitForSelector(`.entries.live .entry[data-id="${idFromB}"]`, { timeout: 10000 })
  .catch(() => fail(`the live tail on server A did not show ${idFromB}, emitted through server B`));
// The channel is served by A now (the tail is not a subscriber; the chat page below is).

// An entry that breaks the schema, written straight into Redis by another producer.
const streamKey = `${prefix}${channel}`;
const badId = execFileSync(
  "redis-cli",
  ["-u", redisUrl, "XADD", streamKey, "*", "data", JSON.stringify({ author: "mallory", room: `insp${tag}` }), "event", "chat.message", "channel", channel],
  { encoding: "utf8" },
).trim();
await page.reload();
await page.waitForSelector(`.entries.history .entry[data-id="${badId}"]`, { timeout: 10000 }).catch(() => fail(`the history does not show ${badId}`));
const flagged = await page.$eval(`.entries.history .entry[data-id="${badId}"]`, (node) => ({
  bad: node.classList.contains("bad"),
  path: node.querySelector(".problem .path")?.textContent,
  rule: node.querySelector(".problem .rule")?.textContent,
}));
await expect(flagged.bad && flagged.path === "(the data)" && flagged.rule === "required", `the bad entry is shown as ${JSON.stringify(flagged)}`);
const good = await page.$eval(`.entries.history .entry[data-id="${idFromB}"]`, (node) => node.classList.contains("bad"));
await expect(!good, "the good entry is not flagged");
await page.screenshot({ path: join(outDir, "channels.png"), fullPage: false });

// 4. Emit: refused in the page with its path, then stored.
await page.goto(`${base(urlA)}#emit/${channel}`);
await page.waitForSelector("form.emit");
await page.selectOption('form.emit select[name="event"]', "chat.message");
await page.fill('form.emit input[name="field-text"]', "");
await page.click('form.emit button[type="submit"]');
await page.waitForSelector(".answer.refused", { timeout: 5000 }).catch(() => fail("an empty text was not refused"));
const problems = await page.$$eval(".problems li .path", (nodes) => nodes.map((node) => node.textContent));
await expect(problems.includes("/text"), `the page's problems name ${JSON.stringify(problems)}, expected /text`);
const before = (await (await fetch(`${base(urlA)}/api/channels/${channel}/history`, { headers: { authorization: `Bearer ${token}` } })).json()).entries.length;
await expect(before === 2, `${before} entries after the refused emit, expected 2 (nothing stored)`);
await page.screenshot({ path: join(outDir, "emit-refused.png"), fullPage: false });
await page.fill('form.emit input[name="field-text"]', "sent from the inspector");
await page.click('form.emit button[type="submit"]');
await page.waitForSelector(".answer.stored .stored-id", { timeout: 10000 }).catch(() => fail("a valid message was not stored"));
const storedId = await page.textContent(".answer.stored .stored-id");
const after = (await (await fetch(`${base(urlA)}/api/channels/${channel}/history`, { headers: { authorization: `Bearer ${token}` } })).json()).entries;
await expect(after.length === 3 && after[0].id === storedId && after[0].data.text === "sent from the inspector", `history after the emit: ${JSON.stringify(after.slice(0, 1))}`);
await page.screenshot({ path: join(outDir, "emit.png"), fullPage: false });

// 5. Presence: ada opens the chat's general room on server A in another browser, seen
//    joining live.
await page.goto(`${base(urlA)}#presence/room-general`);
await page.waitForSelector(".presence .status");
const ada = `ada${tag}`;
const chatContext = await browser.newContext();
const chat = await chatContext.newPage();
await chat.goto(urlA);
await chat.fill("#name", ada);
await chat.click("#name-submit");
await chat.waitForSelector('#status[data-status="connected"]', { timeout: 10000 });
await chat.click('.room[data-room="general"]');
await page
  .waitForSelector(`.presence tr[data-member="${ada}"]`, { timeout: 10000 })
  .catch(() => fail(`the presence view did not list ${ada} after she joined`));
const logged = await page.$$eval(".presence-log li", (nodes) => nodes.map((node) => node.textContent));
await expect(logged.some((line) => line.includes(ada) && line.endsWith("joined")), `joins seen: ${JSON.stringify(logged)}`);
await page.screenshot({ path: join(outDir, "presence.png"), fullPage: false });

// The channels server A serves now: ada's stream holds room-general.
await page.goto(`${base(urlA)}#channels`);
await page
  .waitForFunction(() => [...document.querySelectorAll(".channels tbody tr")].some((row) => row.textContent.startsWith("room-general") && Number(row.children[1]?.textContent) >= 1), null, { timeout: 10000 })
  .catch(() => fail("the channels served by server A do not list room-general with a subscriber"));
await page.screenshot({ path: join(outDir, "channels-served.png"), fullPage: false });

// ada closes her page: her leave is seen live (after the server's presence linger, 5 s).
await page.goto(`${base(urlA)}#presence/room-general`);
await page.waitForSelector(`.presence tr[data-member="${ada}"]`, { timeout: 10000 });
await chatContext.close();
await page
  .waitForFunction((who) => [...document.querySelectorAll(".presence-log li")].some((line) => line.textContent.includes(who) && line.textContent.endsWith("left")), ada, { timeout: 20000 })
  .catch(() => fail(`the presence view did not see ${ada} leave`));
await expect((await page.$(`.presence tr[data-member="${ada}"]`)) === null, `${ada} is still listed after she left`);

// 6. Health.
await page.goto(`${base(urlA)}#health`);
await page.waitForSelector(".backend-kind", { timeout: 10000 });
await expect((await page.textContent(".backend-kind")) === "redis", "the backend is Redis");
await page.waitForSelector("tr.node", { timeout: 10000 }).catch(() => fail("no Redis node listed"));
const role = await page.$eval("tr.node td:nth-child(2)", (node) => node.textContent);
await expect(role === "master", `the node's role: ${role}`);
await page.waitForFunction(() => document.querySelectorAll(".chart polyline[points*=','] ").length === 5, null, { timeout: 10000 }).catch(() => fail("the charts have no samples"));
// Some load on server A, for the figures: 30 emits over 1.5 s.
for (let n = 0; n < 30; n++) {
  await fetch(`${base(urlA)}/api/channels/${channel}/emit`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ event: "chat.message", data: { author: "load", room: `insp${tag}`, text: `n${n}` } }),
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await page
  .waitForFunction(() => Number.parseFloat(document.querySelector('.chart[data-label="Emits"] strong')?.textContent ?? "0") > 0, null, { timeout: 5000 })
  .catch(() => fail("the emits chart did not show the emits"));
await page.screenshot({ path: join(outDir, "health.png"), fullPage: false });

await expect(errors.length === 0, `page errors: ${errors.join("; ")}`);
await browser.close();
console.log(`inspector-e2e: ok: every view checked; screenshots in ${outDir}`);
