// Compiles the repository's TypeScript client (client/: @realtime-rs/client and
// @realtime-rs/react) for an example page that depends on it through `file:` links: their
// dist/ is not committed. Installs client/'s packages first when they are missing or older
// than its lock file (`npm ci`), then runs `tsc -b` (incremental: fast when nothing changed).
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const client = fileURLToPath(new URL("../../../client/", import.meta.url));

/** When `path` was last modified, or 0 when it is missing. */
function modified(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

export function buildClient() {
  const installed = modified(`${client}node_modules/.package-lock.json`);
  if (installed === 0 || modified(`${client}package-lock.json`) > installed) {
    console.log(`npm ci in ${client}`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    execFileSync(npm, ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: client, stdio: "inherit" });
  }
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-b", "packages/client", "packages/react"], {
    cwd: client,
    stdio: "inherit",
  });
}

// `node build-client.mjs`: the same, from the command line (the pages' `typecheck` script).
if (process.argv[1] === fileURLToPath(import.meta.url)) buildClient();
