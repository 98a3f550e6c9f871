// Bundles the browser tests' pages into test/browser/dist/: ours.html (@realtime-rs/react,
// from the workspace's packages, which it compiles first: `tsc -b`, incremental), tabs.html
// (the core alone, for tab sharing) and, when
// tests/e2e's packages are installed, upstash.html (the unmodified @upstash/realtime 1.1.0
// client, for the comparison).
//
//   node test/browser/build.mjs
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));
export const dist = `${here}dist`;
/** tests/e2e's node_modules: where @upstash/realtime 1.1.0 is installed. */
export const upstashModules = fileURLToPath(new URL("../../../tests/e2e/node_modules", import.meta.url));

const html = (script) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>realtime-rs browser test</title><link rel="icon" href="data:,"></head>
<body><div id="root"></div><script src="/${script}"></script></body>
</html>
`;

const common = {
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"development"' },
  logLevel: "warning",
};

/** Builds the packages and the pages; returns whether the @upstash page was built. */
export async function buildPages() {
  const workspace = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, [`${workspace}node_modules/typescript/bin/tsc`, "-b", "packages/client", "packages/react"], {
    cwd: workspace,
    stdio: "inherit",
  });
  await mkdir(dist, { recursive: true });
  // Development React: StrictMode's double mount only happens there.
  await build({ ...common, entryPoints: [`${here}page/ours.tsx`], outfile: `${dist}/ours.js` });
  await writeFile(`${dist}/ours.html`, html("ours.js"));
  await build({ ...common, entryPoints: [`${here}page/tabs.ts`], outfile: `${dist}/tabs.js` });
  await writeFile(`${dist}/tabs.html`, html("tabs.js"));
  if (!existsSync(`${upstashModules}/@upstash/realtime`)) return false;
  await build({
    ...common,
    entryPoints: [`${here}page/upstash.jsx`],
    outfile: `${dist}/upstash.js`,
    // One React: the page's and @upstash's imports both resolve in tests/e2e.
    nodePaths: [upstashModules],
    alias: { react: `${upstashModules}/react`, "react-dom": `${upstashModules}/react-dom` },
  });
  await writeFile(`${dist}/upstash.html`, html("upstash.js"));
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`built ${dist}: ${(await buildPages()) ? "ours.html, upstash.html" : "ours.html (no tests/e2e/node_modules: no upstash.html)"}`);
}
