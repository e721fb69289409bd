/**
 * Temporaries never follow planted symbolic links (issue 22, item 2). A folder others can
 * write to (a shared `runs/`, a project folder) may hold links at the names nnc writes: at
 * every temporary name the old scheme used (`.<name>.tmp-<pid>`, predictable) and at the
 * destinations themselves. Through `nnc train` (a child, planted again and again while it writes
 * 300 checkpoints: the old scheme wrote through such a link and renamed the link into place),
 * `nnc fmt --write` and `nnc compile -o` (in this process, whose pid the old scheme would have
 * used): every link target stays as it was, and the outputs are regular files.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../runtime/checkpoint.js";
import { nncInProcess } from "../cli/in-process.js";
import { start } from "./cli-child.js";

const DIR = mkdtempSync(join(tmpdir(), "nnc-symlinks-"));

/** Files outside the shared folder that links point at; each must keep its content. */
class Victims {
  private readonly all = new Map<string, string>();
  private readonly targets = new Map<string, string>();
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  /** Plants a link at `link` to a victim file of its own, unless something is there already. */
  plant(link: string): void {
    try {
      lstatSync(link);
      return; // there already (our link, or a file of the run)
    } catch {
      // free: plant
    }
    let target = this.targets.get(link);
    if (target === undefined) {
      target = join(this.dir, `victim-${this.targets.size}`);
      const content = `victim ${this.targets.size}: must not change\n`;
      writeFileSync(target, content);
      this.targets.set(link, target);
      this.all.set(target, content);
    }
    try {
      symlinkSync(target, link);
    } catch {
      // the name was taken meanwhile
    }
  }
  expectUntouched(): void {
    expect(this.all.size).toBeGreaterThan(0);
    for (const [target, content] of this.all) expect(readFileSync(target, "utf8"), target).toBe(content);
    expect(readdirSync(this.dir)).toHaveLength(this.all.size);
  }
}

/** The old scheme's names, for `pid` and its neighbours, and the usual editor and backup names. */
function plantAround(victims: Victims, dir: string, names: readonly string[], pid: number): void {
  for (const name of names) {
    for (const p of [pid, pid - 1, pid + 1, pid + 2]) victims.plant(join(dir, `.${name}.tmp-${p}`));
    for (const other of [`.${name}.tmp`, `${name}.tmp`, `${name}~`, `.${name}.swp`]) victims.plant(join(dir, other));
  }
}

describe("planted symbolic links", () => {
  it("nnc train into a shared folder: links at its outputs and at every old temporary name are never followed", async () => {
    const shared = join(DIR, "shared");
    mkdirSync(shared);
    const nn = join(DIR, "m.nn");
    writeFileSync(nn, readFileSync(join(import.meta.dirname, "../../examples/xor.nn"), "utf8").replace("epochs 60", "epochs 300\n  checkpoint every 1"));
    const victims = new Victims(join(DIR, "outside-train"));
    const outputs = ["checkpoint.nnck", "weights.json", "report.html"];
    for (const name of outputs) victims.plant(join(shared, name));
    const { child, done } = start(["train", nn, "--out", shared, "--quiet"]);
    // As an attacker would: plant again whenever a link is gone (a run removes stale
    // temporaries when it starts), all through the run's 300 checkpoint writes.
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      plantAround(victims, shared, [...outputs, ".nnc-lock"], child.pid!);
      await new Promise((res) => setTimeout(res, 1));
    }
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    victims.expectUntouched();
    for (const name of outputs) expect(lstatSync(join(shared, name)).isFile(), name).toBe(true);
    const c = decodeCheckpoint(readFileSync(join(shared, "checkpoint.nnck")));
    expect(typeof c === "string" ? c : c.state.epoch).toBe(300);
    expect((JSON.parse(readFileSync(join(shared, "weights.json"), "utf8")) as { format: string }).format).toBe("nnc-weights");
  }, 60_000);

  it("nnc fmt --write and nnc compile -o beside links at this process's old temporary names", async () => {
    const dir = join(DIR, "project");
    mkdirSync(dir);
    const victims = new Victims(join(DIR, "outside-fmt"));
    const nn = join(dir, "xor.nn");
    writeFileSync(nn, readFileSync(join(import.meta.dirname, "../../examples/xor.nn"), "utf8"));
    plantAround(victims, dir, ["xor.nn", "xor.model.ts"], process.pid);
    victims.plant(join(dir, "xor.model.ts")); // the destination itself
    const f = await nncInProcess("fmt", "--write", nn);
    expect(f.code, f.err).toBe(0);
    const c = await nncInProcess("compile", nn, "-o", join(dir, "xor.model.ts"));
    expect(c.code, c.err).toBe(0);
    victims.expectUntouched();
    expect(lstatSync(join(dir, "xor.model.ts")).isFile()).toBe(true);
    expect(readFileSync(join(dir, "xor.model.ts"), "utf8")).toMatch(/export function createModel/);
    expect(readFileSync(nn, "utf8")).toMatch(/^model Xor \{$/m);
    expect(readdirSync(dir).filter((f) => /\.tmp-[0-9a-f]{16}$/.test(f))).toEqual([]);
  }, 60_000);
});
