// A browser run of the chat against running servers, as a person would use it.
// Usage: node e2e.mjs <url-a> [<url-b>] [screenshot.png]
// Two browser contexts (ada on url-a, bob on url-b, which may be another server process
// on the same Redis) chat in `general`, each listing both as online; a second tab of ada's
// shares her stream and gets bob's message too; eve is refused by a
// private room; ada reloads and sees the history once; bob leaves and ada's list drops him;
// bob opens the room again and finds what he saw plus what ada said meanwhile, each once
// (the client resumed the room from its cursor). Exits 1 with a message on the first
// failed expectation.
import { chromium } from "playwright-core";

const [urlA, urlB = urlA, screenshot] = process.argv.slice(2);
if (!urlA) {
  console.error("usage: node e2e.mjs <url-a> [<url-b>] [screenshot.png]");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const fail = async (message) => {
  console.error(`e2e: ${message}`);
  await browser.close();
  process.exit(1);
};
const tag = Date.now().toString(36);

async function person(url, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[${name}] page error: ${error.message}`));
  await page.goto(url);
  await page.fill("#name", name);
  await page.click("#name-submit");
  await page.waitForSelector("#me");
  await page.waitForSelector('#status[data-status="connected"]', { timeout: 10000 });
  return page;
}

async function texts(page) {
  return page.$$eval("#messages .message .text", (nodes) => nodes.map((n) => n.textContent));
}

const ada = await person(urlA, `ada${tag}`);
const bob = await person(urlB, `bob${tag}`);
await ada.click('.room[data-room="general"]');
await bob.click('.room[data-room="general"]');
await ada.waitForSelector('#messages[data-room="general"]');
await bob.waitForSelector('#messages[data-room="general"]');
await ada.waitForTimeout(300);

// Who's online: each page lists both (sorted by name), whichever server it streams from.
const online = (page) => page.$$eval("#online .member", (nodes) => nodes.map((n) => n.dataset.member));
const bothOnline = JSON.stringify([`ada${tag}`, `bob${tag}`]);
for (const [who, page] of [["ada", ada], ["bob", bob]]) {
  await page
    .waitForFunction((expected) => JSON.stringify([...document.querySelectorAll("#online .member")].map((n) => n.dataset.member)) === expected, bothOnline, { timeout: 10000 })
    .catch(async () => fail(`${who} lists ${JSON.stringify(await online(page))} as online, expected ${bothOnline}`));
}

const hello = `hello from ada ${tag}`;
await ada.fill("#draft", hello);
await bob.waitForFunction(() => document.querySelector("#typing")?.textContent?.includes("typing"), null, { timeout: 5000 })
  .catch(() => fail("bob did not see ada typing"));
await ada.click("#send");
await bob.waitForFunction((text) => [...document.querySelectorAll("#messages .text")].some((n) => n.textContent === text), hello, { timeout: 5000 })
  .catch(() => fail("bob did not receive ada's message"));
const reply = `hi ada, bob here ${tag}`;
await bob.fill("#draft", reply);
await bob.click("#send");
await ada.waitForFunction((text) => [...document.querySelectorAll("#messages .text")].some((n) => n.textContent === text), reply, { timeout: 5000 })
  .catch(() => fail("ada did not receive bob's reply"));

// An empty message is refused with a visible error, and nothing appears.
const before = (await texts(ada)).length;
await ada.fill("#draft", "");
await ada.click("#send");
await ada.waitForSelector("#send-error", { timeout: 5000 }).catch(() => fail("no error for an empty message"));
const refusal = await ada.textContent("#send-error");
if (!refusal.includes("empty")) await fail(`unexpected refusal: ${refusal}`);
await ada.fill("#draft", "x".repeat(501));
await ada.click("#send");
await ada.waitForFunction(() => document.querySelector("#send-error")?.textContent?.includes("too long"), null, { timeout: 5000 })
  .catch(() => fail("no error for an over-long message"));
if ((await texts(ada)).length !== before) await fail("a refused message appeared");

// A private room: ada creates it inviting bob; eve is refused with a clear message.
const secret = `secret${tag}`;
await ada.fill("#new-room", secret);
await ada.check("#new-private");
await ada.fill("#new-invite", `bob${tag}`);
await ada.click("#create");
await ada.waitForSelector(`#messages[data-room="${secret}"]`, { timeout: 5000 }).catch(() => fail("ada could not create the private room"));
const eve = await person(urlB, `eve${tag}`);
await eve.waitForSelector(`.room[data-room="${secret}"]`, { timeout: 5000 }).catch(() => fail("eve does not see the room listed"));
await eve.click(`.room[data-room="${secret}"]`);
await eve.waitForSelector("#refused", { timeout: 5000 }).catch(() => fail("eve was not refused"));
const refusedText = await eve.textContent("#refused");
if (!refusedText.includes("private room")) await fail(`unclear refusal: ${refusedText}`);
if ((await eve.getAttribute("#status", "data-status")) !== "connected") await fail("eve's stream broke after the refusal");

// A second tab of ada's shares her browser's stream (one connection for all its tabs) and
// gets the room's messages too.
const adaTab = await ada.context().newPage();
adaTab.on("pageerror", (error) => console.error(`[ada's 2nd tab] page error: ${error.message}`));
await adaTab.goto(urlA);
await adaTab.waitForSelector('#status[data-status="connected"]', { timeout: 10000 })
  .catch(() => fail("ada's second tab did not connect"));
const role = await adaTab.getAttribute("#status", "data-tabs");
if (role !== "follower") await fail(`ada's second tab holds a stream of its own (tabs: ${role}), expected "follower"`);
for (const page of [ada, adaTab]) {
  await page.click('.room[data-room="general"]');
  await page.waitForSelector('#messages[data-room="general"]');
}
await adaTab.waitForTimeout(300);
const forBoth = `for both of ada's tabs ${tag}`;
await bob.fill("#draft", forBoth);
await bob.click("#send");
for (const [who, page] of [["ada's first tab", ada], ["ada's second tab", adaTab]]) {
  await page.waitForFunction((text) => [...document.querySelectorAll("#messages .text")].some((n) => n.textContent === text), forBoth, { timeout: 5000 })
    .catch(() => fail(`${who} did not receive bob's message`));
}
await adaTab.close();

// Reload mid-conversation: history shows each message once.
await ada.reload();
await ada.waitForSelector('#status[data-status="connected"]', { timeout: 10000 });
await ada.click('.room[data-room="general"]');
await ada.waitForFunction((text) => [...document.querySelectorAll("#messages .text")].some((n) => n.textContent === text), reply, { timeout: 5000 })
  .catch(() => fail("no history after reload"));
await ada.waitForTimeout(500);
const after = await texts(ada);
for (const text of [hello, reply]) {
  const count = after.filter((t) => t === text).length;
  if (count !== 1) await fail(`after reload, "${text}" appears ${count} times`);
}

if (screenshot) await bob.screenshot({ path: screenshot, fullPage: true });

// Bob closes the room: once his page's presence ends (the server's linger), ada's page
// no longer lists him, and says so.
await bob.click('.room[data-room="general"] button.leave');
await ada
  .waitForFunction((gone) => ![...document.querySelectorAll("#online .member")].some((n) => n.dataset.member === gone), `bob${tag}`, { timeout: 15000 })
  .catch(async () => fail(`bob is still listed after leaving: ${JSON.stringify(await online(ada))}`));
const notices = await ada.$$eval("#messages .notice", (nodes) => nodes.map((n) => n.textContent));
if (!notices.includes(`bob${tag} left`)) await fail(`no "bob left" notice: ${JSON.stringify(notices)}`);

// While bob is away ada says something; bob opens the room again: the conversation as he
// left it, then ada's message, each once.
const meanwhile = `while you were away ${tag}`;
await ada.fill("#draft", meanwhile);
await ada.click("#send");
await ada.waitForFunction((text) => [...document.querySelectorAll("#messages .text")].some((n) => n.textContent === text), meanwhile, { timeout: 5000 })
  .catch(() => fail("ada did not see her own message"));
await bob.click('.room[data-room="general"]');
await bob.waitForFunction((text) => [...document.querySelectorAll("#messages .text")].some((n) => n.textContent === text), meanwhile, { timeout: 5000 })
  .catch(() => fail("bob, back in the room, did not receive what ada said meanwhile"));
await bob.waitForTimeout(500);
const back = await texts(bob);
for (const text of [hello, reply, meanwhile]) {
  const count = back.filter((t) => t === text).length;
  if (count !== 1) await fail(`back in the room, bob sees "${text}" ${count} times`);
}
if (back.indexOf(reply) > back.indexOf(meanwhile)) await fail(`back in the room, bob's messages are out of order: ${JSON.stringify(back)}`);
console.log("e2e: ok");
await browser.close();
