// Builds the inspector page (client/inspector) into the one HTML file realtime-axum embeds:
// realtime-axum/src/inspector/assets/inspector.html, its script and styles inline.
//
//   node scripts/build-inspector.mjs           # write it
//   node scripts/build-inspector.mjs --check   # fail when the committed file is stale
//
// The page's script must type-check first: `npx tsc -p inspector`.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, transform } from "esbuild";

/** What the page may weigh, gzipped (level 9): it loads once per inspector visit. */
const BUDGET = 20 * 1024;

const client = join(dirname(fileURLToPath(import.meta.url)), "..");
const output = join(client, "..", "realtime-axum", "src", "inspector", "assets", "inspector.html");

const script = await build({
  entryPoints: [join(client, "inspector", "src", "main.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2022",
  write: false,
  legalComments: "none",
});
const styles = await transform(readFileSync(join(client, "inspector", "src", "style.css"), "utf8"), {
  loader: "css",
  minify: true,
});
const inline = (text) => text.replaceAll("</", "<\\/");
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Realtime inspector</title>
<style>${styles.code.trim()}</style>
</head>
<body>
<script>${inline(script.outputFiles[0].text.trim())}</script>
</body>
</html>
`;

const gzipped = gzipSync(page, { level: 9 }).length;
if (gzipped > BUDGET) {
  console.error(`the inspector page is ${gzipped} B gzipped, over its budget of ${BUDGET} B`);
  process.exit(1);
}
if (process.argv.includes("--check")) {
  const committed = readFileSync(output, "utf8");
  if (committed !== page) {
    console.error(`${output} is stale: run \`node client/scripts/build-inspector.mjs\` and commit it`);
    process.exit(1);
  }
  console.log(`inspector page up to date (${page.length} B, ${gzipped} B gzipped, budget ${BUDGET} B)`);
} else {
  writeFileSync(output, page);
  console.log(`wrote ${output} (${page.length} B, ${gzipped} B gzipped, budget ${BUDGET} B)`);
}
