// Who's online, in a browser, across two server processes on one Redis, one of which dies.
// Usage: node presence-e2e.mjs <url-a> <url-b> <pid-a> [screenshot.png]
// ada opens `general` on url-a (in two tabs: one member), bob on url-b; each page lists
// both. Then the process of url-a (pid-a) is killed with SIGKILL: bob's page drops ada
// from its list (a `presence.left` sent by the survivor once ada's connections expired,
// within the servers' presence TTL) and still lists himself. Exits 1 with a message on
// the first failed expectation; prints how long ada's departure took.
import { chromium } from "playwright-core";

const [urlA, urlB, pidA, screenshot] = process.argv.slice(2);
if (!urlA || !urlB || !pidA) {
  console.error("usage: node presence-e2e.mjs <url-a> <url-b> <pid-a> [screenshot.png]");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const fail = async (message) => {
  console.error(`presence-e2e: ${message}`);
  await browser.close();
  process.exit(1);
};
const tag = Date.now().toString(36);
const ada = `ada${tag}`;
const bob = `bob${tag}`;

/** A page of `name` on `url`, in `context` (a new one unless given: its cookie is the name). */
async function person(url, name, context) {
  const ownContext = context ?? (await browser.newContext());
  const page = await ownContext.newPage();
  page.on("pageerror", (error) => console.error(`[${name}] page error: ${error.message}`));
  await page.goto(url);
  if (!context) {
    await page.fill("#name", name);
    await page.click("#name-submit");
  }
  await page.waitForSelector("#me");
  await page.waitForSelector('#status[data-status="connected"]', { timeout: 10000 });
  await page.click('.room[data-room="general"]');
  await page.waitForSelector('#online[data-room="general"]');
  return page;
}

/** The member ids `page` lists as online, in order. */
const listed = (page) => page.$$eval("#online .member", (nodes) => nodes.map((n) => n.dataset.member));

async function expectListed(page, who, members, timeout = 10000) {
  await page
    .waitForFunction(
      (expected) => JSON.stringify([...document.querySelectorAll("#online .member")].map((n) => n.dataset.member)) === expected,
      JSON.stringify(members),
      { timeout },
    )
    .catch(async () => fail(`${who} lists ${JSON.stringify(await listed(page))}, expected ${JSON.stringify(members)}`));
}

const adaPage = await person(urlA, ada);
const bobPage = await person(urlB, bob);
await expectListed(adaPage, "ada", [ada, bob]);
await expectListed(bobPage, "bob", [ada, bob]);
const adaSecondTab = await person(urlA, ada, adaPage.context());
await expectListed(adaSecondTab, "ada's second tab", [ada, bob]);
await expectListed(bobPage, "bob, after ada's second tab", [ada, bob]);
const you = await bobPage.textContent(`#online .member[data-member="${bob}"]`);
if (!you.endsWith("(you)")) await fail(`bob's own entry reads "${you}"`);

process.kill(Number(pidA), "SIGKILL");
const killed = Date.now();
await expectListed(bobPage, "bob, after ada's server died", [bob], 30000);
console.log(`presence-e2e: ada gone from bob's page ${Date.now() - killed} ms after her server was killed`);
const notices = await bobPage.$$eval("#messages .notice", (nodes) => nodes.map((n) => n.textContent));
if (!notices.includes(`${ada} left`)) await fail(`no "${ada} left" notice: ${JSON.stringify(notices)}`);
// The members route of the survivor agrees.
const members = await bobPage.evaluate(() =>
  fetch("/api/realtime/presence?channel=room-general").then((response) => response.json()),
);
if (JSON.stringify(members) !== JSON.stringify([{ member: bob, info: { name: bob } }])) {
  await fail(`the survivor lists ${JSON.stringify(members)}`);
}

if (screenshot) await bobPage.screenshot({ path: screenshot, fullPage: true });
console.log("e2e: ok");
await browser.close();
