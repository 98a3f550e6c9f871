// `validateWith`: the opt-in validator made from the app's Standard Schema validators
// (zod 4 here, as the generated module passes them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { validateWith } from "../dist/validate.js";

const validate = validateWith({
  "chat.message": z.object({ text: z.string().max(5), tags: z.array(z.string()) }),
  "counter.tick": z.number().int(),
});

test("valid data has no problem", () => {
  assert.equal(validate("chat.message", { text: "hi", tags: [] }), undefined);
  assert.equal(validate("counter.tick", 3), undefined);
});

test("invalid data: the first issue's message and its JSON pointer", () => {
  const problem = validate("chat.message", { text: "hi", tags: ["ok", 7] });
  assert.equal(problem?.kind, "invalid-event");
  assert.equal(problem?.path, "/tags/1");
  assert.match(problem?.message ?? "", /string/);
  assert.deepEqual(validate("counter.tick", 1.5)?.path, "");
});

test("an event without a schema is unknown, names on Object.prototype included", () => {
  for (const name of ["chat.gone", "constructor", "__proto__", "toString"]) {
    assert.deepEqual(validate(name, {}), { kind: "unknown-event", message: `unknown event \`${name}\``, path: "" });
  }
});

test("an asynchronous schema is refused with a message, not awaited", () => {
  const asyncOnly = validateWith({ "x.y": z.string().refine(async () => true) });
  assert.equal(asyncOnly("x.y", "a")?.message, "async schemas are not supported");
});

test("path segments given as { key } objects are read", () => {
  const custom = validateWith({
    "x.y": { "~standard": { version: 1, vendor: "test", validate: () => ({ issues: [{ message: "no", path: [{ key: "a" }, 0] }] }) } },
  });
  assert.deepEqual(custom("x.y", null), { kind: "invalid-event", message: "no", path: "/a/0" });
});
