// Bundles the CLI into one file (dist/nnc.mjs). Loading ~700 small ES modules (chevrotain pulls
// in lodash-es) cost a cold `nnc` about a second before any work; one bundle loads in a
// fraction of that. Heavy optional parts stay external and are loaded on demand.
import { build } from "esbuild";

const options = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  legalComments: "none",
  external: ["prettier", "prettier/*"],
  banner: {
    js: 'import { createRequire as __nncCreateRequire } from "node:module"; const require = __nncCreateRequire(import.meta.url);',
  },
  logLevel: "warning",
};

await build({ ...options, entryPoints: ["cli/nnc.ts"], outfile: "dist/nnc.mjs" });
// The thread of `nnc search --workers N`, beside the CLI, where `runtime/node/search-pool.ts` looks for it.
await build({ ...options, entryPoints: ["runtime/node/search-worker.ts"], outfile: "dist/search-worker.mjs" });
