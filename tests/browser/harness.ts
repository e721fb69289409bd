/**
 * Browser-test harness: serves the built playground with `vite preview` on a fixed port and
 * drives Debian's chromium through playwright-core with a fresh profile. Every console error
 * and page error is collected so a test can fail on it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";

export const PORT = 4179;
export const BASE = `http://127.0.0.1:${PORT}/`;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SHOTS = join(ROOT, "tests/browser/screenshots");

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Harness {
  readonly browser: Browser;
  /** Console errors, page errors and requests that left the origin, across every page. */
  readonly errors: string[];
  newPage(options?: BrowserContextOptions): Promise<{ page: Page; context: BrowserContext }>;
  close(): Promise<void>;
}

async function waitForServer(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`the preview server did not start at ${url}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * One harness for a test file: started before its tests, closed after them, and every test
 * fails on any console error, page error or request that left the origin.
 */
export function useHarness(): Pick<Harness, "newPage"> {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    // Each test answers for its own errors (a failure does not spill into the next test).
    const errors = h ? h.errors.splice(0) : [];
    expect(errors).toEqual([]);
  });
  return { newPage: (options) => (h as Harness).newPage(options) };
}

async function startHarness(): Promise<Harness> {
  mkdirSync(SHOTS, { recursive: true });
  const vite = join(ROOT, "node_modules/vite/bin/vite.js");
  const server: ChildProcess = spawn(process.execPath, [vite, "preview", "playground", "--host", "127.0.0.1", "--port", String(PORT), "--strictPort"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let serverLog = "";
  server.stdout?.on("data", (d: Buffer) => (serverLog += d.toString()));
  server.stderr?.on("data", (d: Buffer) => (serverLog += d.toString()));
  let exited = false;
  server.on("exit", () => (exited = true));
  let browser: Browser;
  try {
    await waitForServer(BASE, 20_000);
    // Another server on the port (--strictPort makes ours exit) would serve stale files.
    await new Promise((r) => setTimeout(r, 200));
    if (exited) throw new Error(`vite preview exited: is port ${PORT} taken?`);
    // playwright gives every launch a fresh profile in a temporary folder (under TMPDIR).
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  } catch (e) {
    server.kill();
    throw new Error(`${String(e)}\n${serverLog}`);
  }
  const errors: string[] = [];
  return {
    browser,
    errors,
    async newPage(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, ...options });
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
      page.on("request", (r) => {
        const u = r.url();
        if (!u.startsWith(BASE) && !u.startsWith("blob:") && !u.startsWith("data:")) errors.push(`request left the origin: ${u}`);
      });
      page.on("requestfailed", (r) => {
        // Cancelled on purpose, not failed: the browser's own favicon fetch (by a reload or a new
        // address), and a worker's script (the page ended a load that a newer one replaced).
        const cancelled = r.failure()?.errorText === "net::ERR_ABORTED";
        if (cancelled && (r.url().endsWith("/favicon.svg") || /\/assets\/[\w.]+\.worker-[\w-]+\.js$/.test(r.url()))) return;
        errors.push(`request failed: ${r.url()}`);
      });
      page.on("response", (r) => {
        if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      return { page, context };
    },
    async close() {
      await browser.close();
      server.kill();
    },
  };
}

// Page globals used by callbacks that run in the page (module-scoped: no DOM lib needed).
declare const window: { readonly __nnc?: { state(): { checks: number } } };
declare const document: { querySelector(selector: string): object | null };

/** Waits until the page has loaded Monaco and the language worker has answered once. */
export async function openPlayground(page: Page, url = BASE): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => {
    const n = window.__nnc;
    return n !== undefined && n.state().checks > 0 && document.querySelector(".monaco-editor .view-lines") !== null;
  });
}
