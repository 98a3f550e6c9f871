// Bundles the progress page into dist/ (index.html, assets/app.js, assets/app.css).
// Usage: npm ci && node build.mjs   (the progress server runs both when dist/ is missing)
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildPage } from "../../support/web/build-page.mjs";

await buildPage({ build, web: dirname(fileURLToPath(import.meta.url)), title: "realtime-rs progress" });
