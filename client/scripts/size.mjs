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
  { name: "@realtime-rs/client", entry: "packages/client/dist/index.js", budget: 4096, external: [] },
  { name: "@realtime-rs/client/validate", entry: "packages/client/dist/validate.js", budget: 512, external: [] },
  {
    name: "@realtime-rs/react",
    entry: "packages/react/dist/index.js",
    budget: 1536,
    external: ["react", "react/jsx-runtime", "@realtime-rs/client"],
  },
];

let over = false;
for (const { name, entry, budget, external } of budgets) {
  const result = await build({
    entryPoints: [root + entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    external,
  });
  const code = result.outputFiles[0].contents;
  const gzipped = gzipSync(code, { level: 9 }).length;
  over ||= gzipped > budget;
  const verdict = gzipped <= budget ? "ok" : "OVER BUDGET";
  console.log(`${name}: ${code.length} B minified, ${gzipped} B min+gzip (budget ${budget} B): ${verdict}`);
}
process.exit(over ? 1 : 0);
