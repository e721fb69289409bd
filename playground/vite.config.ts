import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const repo = fileURLToPath(new URL("..", import.meta.url));

/** Lists every built file in `precache.json`, for the service worker (public/sw.js) to keep offline. */
function precacheList(): Plugin {
  return {
    name: "nnc-precache-list",
    apply: "build",
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith(".map")).sort();
      this.emitFile({ type: "asset", fileName: "precache.json", source: JSON.stringify([...files, "favicon.svg"]) });
    },
  };
}

/**
 * Cross-origin isolation, so the page has SharedArrayBuffer (the training workers share their
 * gradients in it): the dev server and `vite preview` send these headers; the built site's
 * service worker (public/sw.js) adds them for servers that do not.
 */
const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

// The playground: a static site. `grammar/`, `compiler/`, `runtime/` and `examples/` are
// imported from the repository root, so the dev server may read them.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  server: { fs: { allow: [repo] }, headers: ISOLATION },
  preview: { headers: ISOLATION },
  worker: { format: "es" },
  plugins: [precacheList()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 6000,
  },
});
