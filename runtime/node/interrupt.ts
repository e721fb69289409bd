/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) during training. The training loop is synchronous, so a signal
 * handler could only run when it ends: `poll()` hands the event loop a turn at most every
 * 50 ms (between batches), which is when a signal is seen. The first signal only asks the loop
 * to stop (it finishes its batch, saves a checkpoint and exits); a second one stops at once,
 * through `onSecond`. Outside `install()`…`uninstall()` signals keep Node's default action.
 */

export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

const SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The exit code of a process ended by `sig`, as a shell reports it (128 + the signal number). */
export function exitCodeOf(sig: StopSignal): number {
  return sig === "SIGINT" ? 130 : sig === "SIGHUP" ? 129 : 143;
}

/**
 * After SIGHUP the terminal is gone: writes to it fail (EIO) asynchronously, which must not
 * end the run before its checkpoint is written. Such write errors are dropped from then on.
 */
export function ignoreLostTerminal(): void {
  for (const s of [process.stdout, process.stderr]) if (s.isTTY) s.on("error", () => {});
}

export class Interrupts {
  /** The first signal received, once one was. */
  requested: StopSignal | undefined;
  private lastTurn = 0;
  private readonly handlers = new Map<StopSignal, () => void>();

  constructor(
    /** The first signal: the loop will stop after its batch. */
    private readonly onFirst: (sig: StopSignal) => void,
    /** A second signal: stop now (it should exit the process). */
    private readonly onSecond: (sig: StopSignal) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  install(): void {
    for (const sig of SIGNALS) {
      const h = (): void => this.receive(sig);
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
    this.lastTurn = this.now();
  }

  uninstall(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
    this.handlers.clear();
  }

  /** For tests, and for the handlers: what a signal does. */
  receive(sig: StopSignal): void {
    if (this.requested === undefined) {
      this.requested = sig;
      this.onFirst(sig);
    } else this.onSecond(sig);
  }

  /**
   * Lets pending signals in, at most every `everyMs`: a promise of one turn of the event loop
   * when one is due (microseconds), else undefined (nothing to await, so a batch loop of tiny
   * batches pays one clock read). `if (p) await p`.
   */
  poll(everyMs = 50): Promise<void> | undefined {
    const t = this.now();
    if (t - this.lastTurn < everyMs) return undefined;
    this.lastTurn = t;
    return new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A command line as a shell reads it back: arguments quoted where needed. */
export function shellLine(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
