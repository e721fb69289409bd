/** "Did you mean …?" for misspelled names. */
import { ALIASES } from "./vocabulary.js";

/** Optimal string alignment distance (Levenshtein plus adjacent swaps), capped for speed. */
export function editDistance(a: string, b: string, cap = 4): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  const m = a.length;
  const n = b.length;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur: number[] = [i];
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (prev2[j - 2] ?? 0) + 1);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > cap) return cap + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[n] ?? cap + 1;
}

/** The closest candidate, if it is close enough to be what the user meant. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const alias = ALIASES[lower] ?? ALIASES[word];
  if (alias !== undefined && candidates.includes(alias)) return alias;
  if (candidates.includes(lower)) return lower;
  // A word of one or two letters is one edit from too much (`lr` is not `l1`): only its case or an alias.
  if (word.length <= 2) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(lower, c, limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** A hint sentence: "did you mean `relu`?" or the list of choices when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], what: string): string {
  const best = closest(word, candidates);
  if (best !== undefined) return `did you mean \`${best}\`?`;
  const shown = candidates.slice(0, 12).map((c) => `\`${c}\``);
  return `${what} ${candidates.length > 12 ? "include" : "are"} ${shown.join(", ")}${candidates.length > 12 ? ", …" : ""}`;
}
