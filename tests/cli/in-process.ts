/**
 * Runs `nnc` in this process (the `main` the executable calls), capturing what it writes to
 * stdout and stderr: for tests that run many commands, where a child process per command
 * would be slow. `run-cli.ts` runs the built executable as a user would.
 */
import { vi } from "vitest";
import { main } from "../../cli/nnc.js";

export interface InProcessResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function nncInProcess(...args: string[]): Promise<InProcessResult> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const before = process.exitCode;
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = before;
  }
}
