// Run-time check of the generated zod schemas: each must accept the data Rust produced for
// the sample events and refuse the invalid samples. Input: a JSON file written by the Rust
// test (argv[2]); output: one line per failure, exit code 1 if any.
import { readFileSync } from "node:fs";
import type { ZodType } from "zod";
import { schema } from "./generated/corpus.js";

type Sample = { event: string; data: unknown; reason?: string };
type Samples = { valid: Sample[]; invalid: Sample[] };

function lookup(name: string): ZodType {
  let node: unknown = schema;
  for (const segment of name.split(".")) {
    node = (node as Record<string, unknown>)[segment];
    if (node === undefined) throw new Error(`no schema for event ${name}`);
  }
  return node as ZodType;
}

const path = process.argv[2];
if (path === undefined) throw new Error("usage: node runtime.test.js <samples.json>");
const samples = JSON.parse(readFileSync(path, "utf8")) as Samples;
const failures: string[] = [];
for (const sample of samples.valid) {
  const result = lookup(sample.event).safeParse(sample.data);
  if (!result.success) {
    failures.push(`valid ${sample.event} ${JSON.stringify(sample.data)} was refused: ${result.error.message}`);
  }
}
for (const sample of samples.invalid) {
  const result = lookup(sample.event).safeParse(sample.data);
  if (result.success) {
    failures.push(`invalid ${sample.event} (${sample.reason}) ${JSON.stringify(sample.data)} was accepted`);
  }
}
for (const failure of failures) console.log(failure);
console.log(`${samples.valid.length} valid and ${samples.invalid.length} invalid samples checked, ${failures.length} failures`);
process.exit(failures.length === 0 ? 0 : 1);
