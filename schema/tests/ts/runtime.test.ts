// Run-time check of the generated zod schemas: each must accept the data Rust produced for
// the sample events, refuse the invalid samples, and agree with the server on each format
// probe. Input: a JSON file written by the Rust test (argv[2]) and the generated module to
// check (argv[3], under generated/); output: one line per failure, exit code 1 if any.
import { readFileSync } from "node:fs";
import type { ZodType } from "zod";

type Sample = { event: string; data: unknown; reason?: string; accepted?: boolean };
type Samples = { valid: Sample[]; invalid: Sample[]; probes: Sample[] };

const [path, module] = process.argv.slice(2);
if (path === undefined || module === undefined) {
  throw new Error("usage: node runtime.test.js <samples.json> <module.js>");
}
const { schema } = (await import(`./generated/${module}`)) as { schema: unknown };

function lookup(name: string): ZodType {
  let node: unknown = schema;
  for (const segment of name.split(".")) {
    node = (node as Record<string, unknown>)[segment];
    if (node === undefined) throw new Error(`no schema for event ${name}`);
  }
  return node as ZodType;
}

/** The JSON of `value` with every object's keys sorted (own keys only, `__proto__` included). */
function canonical(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    return Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]);
  }
  return value;
}

/**
 * `value` with the keys of the objects in every second array item in reverse order. JSON
 * objects are unordered: no verdict may change (e.g. two equal maps in a set, written with
 * their keys in different orders, are still equal).
 */
function reorderKeys(value: unknown, reverse = false): unknown {
  if (Array.isArray(value)) return value.map((item, index) => reorderKeys(item, index % 2 === 1));
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value);
    if (reverse) keys.reverse();
    const out = {};
    for (const key of keys) {
      const item = reorderKeys((value as Record<string, unknown>)[key], reverse);
      Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const samples = JSON.parse(readFileSync(path, "utf8")) as Samples;
const failures: string[] = [];
for (const sample of samples.valid) {
  const result = lookup(sample.event).safeParse(sample.data);
  if (!result.success) {
    failures.push(`valid ${sample.event} ${JSON.stringify(sample.data)} was refused: ${result.error.message}`);
  } else if (JSON.stringify(canonical(result.data)) !== JSON.stringify(canonical(sample.data))) {
    failures.push(`valid ${sample.event} ${JSON.stringify(sample.data)} was changed: ${JSON.stringify(canonical(result.data))}`);
  }
  const reordered = reorderKeys(sample.data);
  if (!lookup(sample.event).safeParse(reordered).success) {
    failures.push(`valid ${sample.event} ${JSON.stringify(reordered)} was refused with its keys in another order`);
  }
}
for (const sample of samples.invalid) {
  for (const data of [sample.data, reorderKeys(sample.data)]) {
    if (lookup(sample.event).safeParse(data).success) {
      failures.push(`invalid ${sample.event} (${sample.reason}) ${JSON.stringify(data)} was accepted`);
    }
  }
}
for (const probe of samples.probes) {
  const result = lookup(probe.event).safeParse(probe.data);
  if (result.success !== probe.accepted) {
    const verdict = probe.accepted ? "accepts" : "refuses";
    failures.push(`probe ${JSON.stringify(probe.data)}: the server ${verdict} it, zod does not agree`);
  }
}
for (const failure of failures) console.log(failure);
console.log(
  `${module}: ${samples.valid.length} valid and ${samples.invalid.length} invalid samples and ${samples.probes.length} format probes checked, ${failures.length} failures`,
);
process.exit(failures.length === 0 ? 0 : 1);
