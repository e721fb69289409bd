import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const repo = fileURLToPath(new URL("..", import.meta.url));

// The playground: a static site. `grammar/`, `compiler/`, `runtime/` and `examples/` are
// imported from the repository root, so the dev server may read them.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  server: { fs: { allow: [repo] } },
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 6000,
  },
});
