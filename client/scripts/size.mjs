// The size budget of what ships to browsers: each package bundled (its own code only:
// peers and the app's generated zod are not counted), minified and gzipped with esbuild
// and zlib. Prints the figures; exits 1 when one is over its budget. The core's validation
// glue is its own entry (`@realtime-rs/client/validate`, opt-in, like the app's zod schemas
// it runs): measured on its own, not in the core's figure.
//
//   node scripts/size.mjs
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const budgets = [
  // (4,096 B until emits got wake-ups of their own and waits cut at their deadline: +61 B.)
  { name: "@realtime-rs/client", entry: "packages/client/dist/index.js", budget: 4224, external: [] },
  { name: "@realtime-rs/client/validate", entry: "packages/client/dist/validate.js", budget: 512, external: [] },
  // What sharing adds to an app that has the core (whose reader, ids and backoff it uses):
  // the core and it bundled together, less the core alone.
  { name: "@realtime-rs/client/tabs", entry: "packages/client/dist/tabs.js", with: "packages/client/dist/index.js", budget: 2048, external: [] },
  {
    name: "@realtime-rs/react",
    entry: "packages/react/dist/index.js",
    budget: 1536,
    external: ["react", "react/jsx-runtime", "@realtime-rs/client"],
  },
];

/** `entries` bundled together, minified: its size and its size gzipped. */
async function measure(entries, external) {
  const result = await build({
    stdin: { contents: entries.map((entry) => `export * from ${JSON.stringify(root + entry)};`).join("\n"), resolveDir: root },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external,
  });
  const code = result.outputFiles[0].contents;
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

let over = false;
for (const { name, entry, with: base, budget, external } of budgets) {
  let { minified, gzipped } = await measure([entry], external);
  if (base) {
    const alone = await measure([base], external);
    const both = await measure([base, entry], external);
    minified = both.minified - alone.minified;
    gzipped = both.gzipped - alone.gzipped;
  }
  over ||= gzipped > budget;
  const verdict = gzipped <= budget ? "ok" : "OVER BUDGET";
  const what = base ? " added to the core" : "";
  console.log(`${name}: ${minified} B minified, ${gzipped} B min+gzip${what} (budget ${budget} B): ${verdict}`);
}
process.exit(over ? 1 : 0);
