// Reconnect delays: full jitter under a cap that doubles from 0.5 s to 30 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, compareIds, isEventId } from "../dist/utils.js";

test("the cap doubles per attempt from 500 ms and stops at 30 s", () => {
  const caps = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((attempt) => backoffDelay(attempt, {}, () => 1));
  assert.deepEqual(caps, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test("the delay is spread over the whole range below the cap (full jitter)", () => {
  assert.equal(backoffDelay(3, {}, () => 0), 0);
  assert.equal(backoffDelay(3, {}, () => 0.5), 1000);
  const delays = Array.from({ length: 2000 }, () => backoffDelay(4));
  const quarter = delays.filter((delay) => delay < 1000).length;
  assert.ok(quarter > 350 && quarter < 650, `${quarter} of 2000 delays under a quarter of the cap`);
  assert.ok(delays.every((delay) => delay >= 0 && delay <= 4000));
});

test("custom bounds", () => {
  assert.equal(backoffDelay(10, { minMs: 100, maxMs: 800 }, () => 1), 800);
  assert.equal(backoffDelay(1, { minMs: 100, maxMs: 800 }, () => 1), 100);
});

test("event ids compare as numbers, beyond 2^53 too", () => {
  assert.ok(compareIds("9-0", "10-0") < 0);
  assert.ok(compareIds("10-2", "10-10") < 0);
  assert.equal(compareIds("5-5", "5-5"), 0);
  assert.ok(compareIds("18446744073709551615-1", "18446744073709551615-0") > 0);
  assert.ok(compareIds("9007199254740993-0", "9007199254740992-0") > 0);
  assert.ok(isEventId("1-0"));
  assert.ok(!isEventId("1"));
  assert.ok(!isEventId("a-b"));
  assert.ok(!isEventId(5));
});
