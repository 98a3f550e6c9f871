// Bundles an example's React page into <web>/dist: index.html, assets/app.js (from
// src/main.tsx) and assets/app.css (from src/app.css). Each example's build.mjs calls it
// with its own esbuild, so this file needs no packages of its own.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * @param {object} page
 * @param {typeof import("esbuild").build} page.build  esbuild's `build`
 * @param {string} page.web  the example's web/ folder
 * @param {string} page.title  the page's <title>
 */
export async function buildPage({ build, web, title }) {
  const dist = join(web, "dist");
  await mkdir(join(dist, "assets"), { recursive: true });
  await build({
    entryPoints: [join(web, "src", "main.tsx")],
    outfile: join(dist, "assets", "app.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    jsx: "automatic",
    // A package linked with `file:` (the repository's client) resolves its imports from the
    // page's node_modules, not from where it lives: one React in the bundle.
    preserveSymlinks: true,
    define: { "process.env.NODE_ENV": '"production"' },
    minify: true,
    sourcemap: false,
    logLevel: "warning",
  });
  await build({
    entryPoints: [join(web, "src", "app.css")],
    outfile: join(dist, "assets", "app.css"),
    bundle: true,
    minify: true,
    logLevel: "warning",
  });
  await writeFile(join(dist, "index.html"), indexHtml(title));
  console.log(`built ${dist}`);
}

function indexHtml(title) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<div id="root"></div>
<script src="/assets/app.js"></script>
</body>
</html>
`;
}
