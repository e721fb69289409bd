/**
 * Real file-system faults for the disk tests: a small tmpfs that fills up (ENOSPC) and one
 * remounted read-only (EROFS). Mounting needs root (or CAP_SYS_ADMIN); without it the tests
 * that need a mount are skipped, and say why.
 */
import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, fstatSync, mkdirSync, openSync, statfsSync, writeSync } from "node:fs";

/** Mounts a tmpfs of `size` (e.g. "64k") at `dir`; returns why it could not, or undefined. */
export function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.platform !== "linux") return "tmpfs mounts are a Linux test";
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

export function remountReadOnly(dir: string): void {
  execFileSync("mount", ["-o", "remount,ro", dir], { stdio: "pipe" });
}

export function unmount(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  } catch {
    // not mounted
  }
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Fills the file system holding `dir` with `filler` until it is full, then gives back
 * `leave` bytes (rounded to whole pages by the file system). Returns the free bytes after.
 */
export function fillLeaving(filler: string, leave: number): number {
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  }
  const size = fstatSync(fd).size;
  ftruncateSync(fd, Math.max(0, size - leave));
  closeSync(fd);
  return freeBytes(filler.slice(0, filler.lastIndexOf("/")) || "/");
}
