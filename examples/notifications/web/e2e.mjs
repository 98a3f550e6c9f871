// A browser run of the notifications page against a running server.
// Usage: node e2e.mjs <url>
// Signs in, waits for the connected badge, sees a periodic alert and one sent from the page.
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
if (!url) {
  console.error("usage: node e2e.mjs <url>");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  await page.goto(url);
  await page.fill("#user", `u${Date.now().toString(36)}`);
  await page.click("#login");
  await page.waitForSelector('#status[data-status="connected"]', { timeout: 10000 });
  await page.waitForSelector("#alerts li", { timeout: 10000 });
  await page.click("#send");
  await page.waitForSelector('#alerts li:has-text("Sent from the page")', { timeout: 10000 });
  console.log("e2e: ok");
} catch (error) {
  console.error(`e2e: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
