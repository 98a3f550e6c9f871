// The inspector page's own check of an emit (inspector/src/check.ts), bundled with esbuild
// and run in Node: it names the path of each broken rule, and never calls data valid that
// the schema refuses (a `oneOf` no branch matches has no leaf rule to name).
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const bundled = await build({
  entryPoints: [fileURLToPath(new URL("../src/check.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  platform: "neutral",
  write: false,
});
const { check } = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);

const message = {
  $ref: "#/$defs/Message",
  $defs: {
    Message: {
      type: "object",
      required: ["author", "text"],
      properties: { author: { type: "string" }, text: { type: "string", minLength: 1, maxLength: 5 } },
    },
  },
};

test("valid data has no problem", () => {
  assert.deepEqual(check(message, { author: "ada", text: "hi" }), []);
});

test("each broken rule is named with its path", () => {
  const problems = check(message, { author: 7, text: "" });
  assert.deepEqual(problems.map((problem) => problem.path).sort(), ["/author", "/text"]);
  assert.deepEqual(check(message, { author: "ada" }).map((problem) => problem.path), [""]);
});

test("a oneOf that no branch matches is refused, never called valid", () => {
  const either = { oneOf: [{ const: "a" }, { const: "b" }] };
  assert.deepEqual(check(either, "a"), []);
  const problems = check(either, "c");
  assert.ok(problems.length > 0, "refused");
  assert.equal(problems[0].path, "");
});

test("a pattern is read as an ECMAScript regular expression in Unicode mode", () => {
  const name = { type: "string", pattern: "^\\p{L}+$" };
  assert.deepEqual(check(name, "Zoë"), []);
  assert.equal(check(name, "Zoë1").length, 1);
});
