/**
 * What `nnc train` prints while it runs: a progress bar per epoch on a terminal (cli-progress,
 * on stderr), a summary line per epoch (stdout), plain lines when not a terminal, nothing with
 * `--quiet`, one JSON object per epoch with `--json`.
 *
 * The bar hides the cursor and turns line wrapping off while it draws (cli-progress's
 * `hideCursor` and `linewrap: false`); `restoreTerminal` turns both back on. It runs on
 * Ctrl-C / SIGTERM (the train command calls it), and by itself when the process exits while a
 * bar is on screen (an error, an internal error). Every text it prints that did not come from
 * nnc itself (notes quoting paths, metric names) passes through `inert` (`runtime/inert.ts`).
 */
import cliProgress from "cli-progress";
import { inert } from "../inert.js";
import type { MetricValues } from "../metrics.js";
import type { BatchInfo, EpochRecord } from "../train.js";
import { fmt } from "../train.js";

export type ProgressMode = "bar" | "plain" | "quiet" | "json";

export function progressMode(opts: { quiet?: boolean; json?: boolean }, stderr: { isTTY?: boolean }): ProgressMode {
  if (opts.json) return "json";
  if (opts.quiet) return "quiet";
  return stderr.isTTY ? "bar" : "plain";
}

export class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private runStart = Date.now();
  private epochsDone = 0;
  private lastDraw = 0;
  private readonly onExit = (): void => this.restoreTerminal();
  /** `print every N`: text modes print the line of every N-th epoch, the last, and any with a note (JSON prints every one). */
  every = 1;

  constructor(
    readonly mode: ProgressMode,
    readonly epochs: number,
    readonly batches: number,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  /** `done`: batches of this epoch already trained (a run resumed inside an epoch). */
  beginEpoch(epoch: number, done = 0): void {
    this.lastDraw = 0;
    if (this.mode !== "bar") return;
    this.stop();
    process.once("exit", this.onExit);
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch}/${this.epochs} [{bar}] {value}/{total} batches | loss {loss}{metrics} | {rate} samples/s | ETA {eta_formatted}`,
        stream: this.err,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.batches, done, { loss: "-", metrics: "", rate: "-" });
  }

  /** After each batch; redraws at most every 100 ms. `running` gives the epoch's metrics so far. */
  batch(b: BatchInfo, samplesPerSecond: number, running?: () => MetricValues): void {
    if (!this.bar) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && b.batch < b.batches) return;
    this.lastDraw = now;
    const v = running?.();
    const metrics = v
      ? Object.entries(v)
          .filter(([k, x]) => k !== "loss" && typeof x === "number")
          .map(([k, x]) => ` | ${inert(k)} ${fmt(x as number)}`)
          .join("")
      : "";
    this.bar.update(b.batch, { loss: fmt(v?.loss ?? b.loss), metrics, rate: compact(samplesPerSecond) });
  }

  epoch(r: EpochRecord, note?: string): void {
    this.stop();
    this.epochsDone++;
    if (this.mode === "json") {
      this.out.write(JSON.stringify({ event: "epoch", epoch: r.epoch, epochs: this.epochs, lr: r.lr, seconds: r.seconds, samplesPerSecond: r.samplesPerSecond, ...r.values }) + "\n");
      return;
    }
    if (this.mode === "quiet") return;
    if (r.epoch % this.every !== 0 && r.epoch < this.epochs && note === undefined) return;
    const values = Object.entries(r.values)
      .map(([k, v]) => `${inert(k)} ${fmt(v)}`)
      .join("  ");
    const left = this.epochs - r.epoch;
    const per = (Date.now() - this.runStart) / 1000 / this.epochsDone;
    const eta = left > 0 ? `  ETA ${duration(per * left)}` : "";
    this.out.write(
      `epoch ${String(r.epoch).padStart(String(this.epochs).length)}/${this.epochs}  ${values}  lr ${fmt(r.lr)}  ${r.seconds.toFixed(2)}s (${compact(r.samplesPerSecond)} samples/s)${eta}${note ? `  ${inert(note)}` : ""}\n`,
    );
  }

  /** A line of its own (resume notice, early stop), made inert (it may quote a path). Goes to stderr in JSON mode. */
  note(text: string): void {
    if (this.mode === "quiet") return;
    (this.mode === "json" ? this.err : this.out).write(inert(text, { keepNewlines: true }) + "\n");
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    process.removeListener("exit", this.onExit);
  }

  /**
   * Takes the bar off the screen and gives the terminal back its cursor and line wrapping
   * (ESC[?25h, ESC[?7h), even if the bar was cut off half-way. Safe to call at any time.
   */
  restoreTerminal(): void {
    const had = this.bar !== undefined;
    this.stop();
    if (this.mode === "bar" && had && (this.err as { isTTY?: boolean }).isTTY) this.err.write("\x1b[?25h\x1b[?7h");
  }
}

export function compact(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}

export function duration(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
}
