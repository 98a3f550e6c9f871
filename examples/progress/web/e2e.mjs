// A browser run of the progress page against a running server.
// Usage: node e2e.mjs <url> [screenshot.png]
// A refused job shows the server's error; a job of 20 steps is followed, the page is
// reloaded mid-job and shows every step exactly once, in order (the server replays the
// job's channel, then sends the live steps), up to `completed` at 100%; a second job of 50
// steps starts from an empty list and is cancelled from the page; the first job, followed
// again from the recent jobs, still shows its 20 steps once each. The page renders every
// event its client delivers; the client drops an id it has already delivered and counts
// it, and that count must stay 0, so a duplicate sent by the server fails here.
// Exits 1 with a message on the first failed expectation.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
if (!url) {
  console.error("usage: node e2e.mjs <url> [screenshot.png]");
  process.exit(2);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Waits for `what` with `promise`, failing with `message` (and Playwright's first line). */
async function expectWithin(promise, message) {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${message} (${String(error.message).split("\n")[0]})`);
  }
}

/** The data-step of every item of the step list, in page order. */
function shownSteps(page) {
  return page.$$eval("#step-list li", (items) => items.map((item) => Number(item.dataset.step)));
}

/** `steps` is exactly 1, 2, ..., n. */
function checkOneToN(steps, when) {
  const ok = steps.every((step, index) => step === index + 1);
  check(ok, `${when}: the steps shown are [${steps.join(", ")}], not 1..${steps.length} once each in order`);
}

function followedJob(page) {
  return page.evaluate(() => (location.hash.startsWith("#job=") ? location.hash.slice(5) : null));
}

/** Fills the form, starts the job and returns its id once the page follows it. */
async function startJob(page, { steps, stepMillis, title }) {
  const before = await followedJob(page);
  await page.fill("#steps", String(steps));
  await page.fill("#step-millis", String(stepMillis));
  await page.fill("#title", title);
  await page.click("#start");
  await expectWithin(
    page.waitForFunction((previous) => location.hash.startsWith("#job=") && location.hash.slice(5) !== previous, before),
    `starting "${title}" did not put a new job in the URL`,
  );
  const id = await followedJob(page);
  await expectWithin(page.waitForSelector(`#job[data-job="${id}"]`), `the page does not show job ${id}`);
  const error = await page.$("#error");
  check(error === null, `an error is shown after starting a job: ${await error?.textContent()}`);
  return id;
}

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const pageErrors = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (error) => {
    pageErrors.push(error.message);
    console.error(`page error: ${error.message}`);
  });
  await page.goto(url);
  await page.waitForSelector("#start");

  // A job out of bounds: the server's 422 is shown, and no job is followed.
  await page.fill("#steps", "0");
  await page.click("#start");
  await expectWithin(page.waitForSelector("#error"), "no error shown for a job of 0 steps");
  const refusal = await page.textContent("#error");
  check(refusal.includes("steps"), `the error for 0 steps does not name the field: ${refusal}`);
  check((await followedJob(page)) === null, "a refused job was followed");

  // A job of 20 steps of 150 ms, followed; listed among the recent jobs.
  const id = await startJob(page, { steps: 20, stepMillis: 150, title: "Resize the photos" });
  await expectWithin(page.waitForSelector('#status[data-status="connected"]'), "the stream did not connect");
  await expectWithin(page.waitForSelector(`#jobs a[href="#job=${id}"]`), "the job is not among the recent jobs");
  await expectWithin(
    page.waitForFunction(() => Number(document.querySelector("#bar")?.getAttribute("data-percent")) >= 30),
    "the bar did not reach 30%",
  );
  const beforeReload = await shownSteps(page);
  checkOneToN(beforeReload, "before the reload");
  check(beforeReload.length >= 6, `the bar is at 30% or more but only ${beforeReload.length} steps are listed`);

  // Reload mid-job: the same job (from the URL), its history replayed, then the live steps.
  await page.reload();
  check((await followedJob(page)) === id, `after the reload the page follows ${await followedJob(page)}, not ${id}`);
  await expectWithin(page.waitForSelector(`#job[data-job="${id}"]`), "the reloaded page does not show the job");
  await expectWithin(
    page.waitForFunction((count) => document.querySelectorAll("#step-list li").length >= count, beforeReload.length),
    `after the reload the list did not get back the ${beforeReload.length} steps shown before`,
  );
  const afterReload = await shownSteps(page);
  checkOneToN(afterReload, "after the reload");
  const heading = await page.textContent("#job h2");
  check(heading.includes("Resize the photos"), `after the reload the job's title is missing: ${heading}`);
  console.log(`e2e: ${beforeReload.length} steps listed before the reload, ${afterReload.length} right after it`);

  await expectWithin(page.waitForSelector('#outcome[data-outcome="completed"]'), "the job did not complete");
  // Anything sent twice would arrive right behind; give it the time to.
  await page.waitForTimeout(500);
  const finished = await shownSteps(page);
  check(finished.length === 20, `the finished job lists ${finished.length} steps, not 20: [${finished.join(", ")}]`);
  checkOneToN(finished, "when completed");
  const percent = await page.getAttribute("#bar", "data-percent");
  check(percent === "100", `the finished bar is at ${percent}%, not 100%`);
  const width = await page.$eval("#bar", (bar) => bar.getBoundingClientRect().width / bar.parentElement.getBoundingClientRect().width);
  check(width > 0.99, `the finished bar fills ${Math.round(width * 100)}% of its track`);
  check((await page.getAttribute("#outcome", "data-steps-done")) === "20", "job.done does not say 20 steps ran");
  const summary = await page.textContent("#outcome");
  check(summary.includes("Resize the photos: 20 steps"), `unexpected summary: ${summary}`);
  check((await page.$("#cancel")) === null, "a finished job can still be cancelled");
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  // A second job: the page starts it from an empty list, and cancels it.
  const second = await startJob(page, { steps: 50, stepMillis: 100, title: "Long import" });
  check(second !== id, "the second job has the first one's id");
  await expectWithin(
    page.waitForFunction((job) => document.querySelectorAll(`#job[data-job="${job}"] #step-list li`).length >= 3, second),
    "the second job shows no steps",
  );
  checkOneToN(await shownSteps(page), "the second job");
  const outcome = await page.$("#outcome");
  check(outcome === null, `the second job shows an outcome before it ends: ${await outcome?.textContent()}`);
  await page.click("#cancel");
  await expectWithin(page.waitForSelector('#outcome[data-outcome="cancelled"]'), "the job was not cancelled");
  await page.waitForTimeout(300);
  const ran = await shownSteps(page);
  checkOneToN(ran, "when cancelled");
  const stepsDone = Number(await page.getAttribute("#outcome", "data-steps-done"));
  check(ran.length === stepsDone, `the cancelled job lists ${ran.length} steps, job.done says ${stepsDone} ran`);
  check(stepsDone < 50, "the cancelled job ran all its steps");
  const cancelled = await page.textContent("#outcome");
  check(cancelled.includes(`cancelled after ${stepsDone} of 50 steps`), `unexpected summary: ${cancelled}`);

  // The first job again, from the recent jobs: the page kept its steps, and the client
  // resumes its channel from its cursor (nothing new: the job has ended).
  await page.click(`#jobs a[href="#job=${id}"]`);
  await expectWithin(page.waitForSelector(`#job[data-job="${id}"] #outcome[data-outcome="completed"]`), "the first job, followed again, is not shown completed");
  await page.waitForTimeout(300);
  const again = await shownSteps(page);
  check(again.length === 20, `the first job, followed again, lists ${again.length} steps, not 20`);
  checkOneToN(again, "the first job followed again");

  const stats = await page.evaluate(() => window.realtimeStats());
  check(stats.duplicatesDropped === 0, `the client dropped ${stats.duplicatesDropped} duplicate events`);
  check(stats.invalidEvents === 0, `the client refused ${stats.invalidEvents} events that broke their schema`);
  console.log(`e2e: client stats ${JSON.stringify(stats)}`);

  check(pageErrors.length === 0, `errors in the page: ${pageErrors.join("; ")}`);
  console.log("e2e: ok");
} catch (error) {
  console.error(`e2e: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
