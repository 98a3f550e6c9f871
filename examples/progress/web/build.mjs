// Bundles the progress page into dist/ (index.html + assets/app.js).
// Usage: npm ci && node build.mjs   (the progress server runs both when dist/ is missing)
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
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>realtime-rs progress</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<div id="root"></div>
<script src="/assets/app.js"></script>
</body>
</html>
`;

await mkdir(join(dist, "assets"), { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.tsx")],
  outfile: join(dist, "assets", "app.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  minify: true,
  sourcemap: false,
  logLevel: "warning",
});
await build({
  entryPoints: [join(here, "src", "app.css")],
  outfile: join(dist, "assets", "app.css"),
  bundle: true,
  minify: true,
  logLevel: "warning",
});
await writeFile(join(dist, "index.html"), INDEX);
console.log(`built ${dist}`);
