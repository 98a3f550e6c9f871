// Bundles the test page into tests/e2e/dist/ (index.html + bundle.js).
// Usage: node tests/e2e/build.mjs   (from anywhere; needs tests/e2e/node_modules)
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

const INDEX = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>realtime-rs e2e</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.2rem; }
  table { border-collapse: collapse; }
  td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
  tr.room-a td:nth-child(2) { color: #0550ae; }
  tr.room-b td:nth-child(2) { color: #8250df; }
  tr.room-c td:nth-child(2) { color: #1a7f37; }
  [data-status="connected"] { color: #1a7f37; }
</style>
</head>
<body>
<div id="root"></div>
<script src="/bundle.js"></script>
</body>
</html>
`;

await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, "page", "app.jsx")],
  outfile: join(dist, "bundle.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  minify: false,
  sourcemap: false,
  logLevel: "warning",
});
await writeFile(join(dist, "index.html"), INDEX);
console.log(`built ${join(dist, "bundle.js")} and index.html`);
