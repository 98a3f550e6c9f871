// Bundles the progress page into dist/ (index.html, assets/app.js, assets/app.css), after
// compiling the repository's client packages it imports (client/, `tsc -b`).
// Usage: npm ci && node build.mjs   (the progress server runs both when dist/ is missing)
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildClient } from "../../support/web/build-client.mjs";
import { buildPage } from "../../support/web/build-page.mjs";

buildClient();
await buildPage({ build, web: dirname(fileURLToPath(import.meta.url)), title: "realtime-rs progress" });
