/**
 * Where each part of the network diagram goes: pure (no DOM), so it is tested on its own.
 *
 * Columns are ranks: a value's rank is the longest path to it from the inputs, so a plain chain
 * is one row of columns (as the diagram always drew it) and parallel branches stand side by side
 * in rows of the same columns; a merge sits between the branches it joins. The layers expanded
 * from one block use are framed together, and a folded use (`collapsed`) is one box in their
 * place, with every edge into or out of its layers drawn to that box.
 */
import type { Diagram, DiagramGroup, DiagramNode } from "../protocol.js";

/** Width of a column. */
export const COL_W = 104;
/** Height of a row of the plain chain: dots (16 … 128), then label, shape and parameters. */
export const ROW_H = 190;
/** Above the dots: the top of the dot area, within a row. */
export const DOTS_TOP = 16;
export const DOTS_AREA = 112;
/** Height of a block use's header (per level of nesting). */
export const HEADER_H = 24;
/** Room above the dots for edges that skip columns. */
export const ARC_ROOM = 14;

/** A box of the diagram: one value, or a folded block use. */
export type Box =
  | { readonly type: "value"; readonly key: string; readonly node: DiagramNode; readonly rank: number; readonly row: number; readonly x: number; readonly top: number }
  | {
      readonly type: "group";
      readonly key: string;
      readonly group: DiagramGroup;
      /** The values folded into it. */
      readonly members: readonly DiagramNode[];
      /** The value it stands for: its last layer's. */
      readonly output: DiagramNode;
      readonly rank: number;
      readonly row: number;
      readonly x: number;
      readonly top: number;
    };

/** An edge between two boxes (several edges between the same two boxes are one). */
export interface Edge {
  readonly from: string;
  readonly to: string;
  /** Neighbouring columns of one row: drawn unit to unit, as in a chain. */
  readonly straight: boolean;
}

/** The frame of an unfolded block use around its boxes. */
export interface Frame {
  readonly group: DiagramGroup;
  /** Nesting depth: 0 for a use in the model itself. */
  readonly depth: number;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export interface Layout {
  readonly boxes: readonly Box[];
  readonly edges: readonly Edge[];
  readonly frames: readonly Frame[];
  readonly width: number;
  readonly height: number;
  /** A plain chain (one input, no merge, no block): drawn exactly as a chain always was. */
  readonly chain: boolean;
  /** Height of a row; the dots of a box start at `top + dotsTop`. */
  readonly rowHeight: number;
  readonly dotsTop: number;
}

/** Dots drawn for a column of units at most (the one before the last is `⋮` when there are more units). */
export const MAX_DOTS = 7;

/**
 * The unit dot k of `shown` stands for: the first ones in order and, when the column has more
 * units than dots, the last dot the last unit (the one before it is `⋮`: undefined).
 */
export function unitOfDot(k: number, shown: number, units: number): number | undefined {
  if (shown === 0 || units === 0) return undefined;
  if (units <= MAX_DOTS) return k;
  if (k === MAX_DOTS - 2) return undefined;
  return k === shown - 1 ? units - 1 : k;
}

export const valueKey = (id: number): string => `v${id}`;
export const groupKey = (key: string): string => `g:${key}`;

/** The outermost folded use that hides `n`, if any. */
function foldedIn(n: DiagramNode, collapsed: ReadonlySet<string>): string | undefined {
  return n.groups.find((g) => collapsed.has(g));
}

export function layoutDiagram(d: Diagram, collapsed: ReadonlySet<string> = new Set()): Layout {
  const groupOf = new Map(d.groups.map((g) => [g.key, g]));
  // Boxes in value order (the program's order is topological, and a block use's layers are
  // consecutive, so a folded use keeps the order too).
  interface Proto {
    key: string;
    members: DiagramNode[];
    group: DiagramGroup | undefined;
  }
  const protos: Proto[] = [];
  const boxOf = new Map<number, Proto>();
  const byKey = new Map<string, Proto>();
  for (const n of d.nodes) {
    const folded = foldedIn(n, collapsed);
    const key = folded === undefined ? valueKey(n.id) : groupKey(folded);
    let p = byKey.get(key);
    if (p === undefined) {
      p = { key, members: [], group: folded === undefined ? undefined : groupOf.get(folded) };
      byKey.set(key, p);
      protos.push(p);
    }
    p.members.push(n);
    boxOf.set(n.id, p);
  }
  // Edges between boxes, once each.
  const edgeSet = new Set<string>();
  const preds = new Map<string, Proto[]>();
  const edgeList: { from: Proto; to: Proto }[] = [];
  for (const n of d.nodes) {
    const to = boxOf.get(n.id)!;
    for (const v of n.inputs) {
      const from = boxOf.get(v);
      if (from === undefined || from === to) continue;
      const k = `${from.key}>${to.key}`;
      if (edgeSet.has(k)) continue;
      edgeSet.add(k);
      edgeList.push({ from, to });
      const list = preds.get(to.key);
      if (list) list.push(from);
      else preds.set(to.key, [from]);
    }
  }
  // Ranks: the longest path from the inputs.
  const rank = new Map<string, number>();
  for (const p of protos) {
    const ps = preds.get(p.key) ?? [];
    rank.set(p.key, ps.length === 0 ? 0 : 1 + Math.max(...ps.map((q) => rank.get(q.key) ?? 0)));
  }
  // Rows: each box at the mean row of the boxes it takes (a merge between its branches), in
  // value order, pushed down past the box above it in its column; sources one per row.
  const row = new Map<string, number>();
  const maxRank = Math.max(0, ...rank.values());
  const order = new Map(protos.map((p, i) => [p.key, i]));
  for (let r = 0; r <= maxRank; r++) {
    const column = protos.filter((p) => rank.get(p.key) === r);
    let sources = 0;
    const wanted = column.map((p) => {
      const ps = preds.get(p.key) ?? [];
      const want = ps.length === 0 ? sources++ : ps.reduce((t, q) => t + (row.get(q.key) ?? 0), 0) / ps.length;
      return { p, want };
    });
    wanted.sort((a, b) => a.want - b.want || order.get(a.p.key)! - order.get(b.p.key)!);
    let last = -Infinity;
    for (const { p, want } of wanted) {
      const at = Math.max(want, last + 1);
      row.set(p.key, at);
      last = at;
    }
  }
  const hasMerge = d.nodes.some((n) => n.merge);
  const chain = d.groups.length === 0 && !hasMerge && d.nodes.filter((n) => n.inputs.length === 0).length <= 1 && edgeList.every((e) => rank.get(e.to.key)! === rank.get(e.from.key)! + 1 && row.get(e.to.key) === row.get(e.from.key));
  // Headers of unfolded uses, as deep as they nest.
  const shownGroups = d.groups.filter((g) => !collapsed.has(g.key) && !ancestors(g, groupOf).some((a) => collapsed.has(a.key)));
  const depthOf = (g: DiagramGroup): number => ancestors(g, groupOf).length;
  const headers = shownGroups.length === 0 ? 0 : 1 + Math.max(...shownGroups.map(depthOf));
  const dotsTop = chain ? DOTS_TOP : DOTS_TOP + ARC_ROOM + headers * HEADER_H;
  const rowHeight = ROW_H + (dotsTop - DOTS_TOP);
  const boxes: Box[] = protos.map((p) => {
    const r = rank.get(p.key)!;
    const rw = row.get(p.key)!;
    const x = COL_W * r + COL_W / 2;
    const top = rw * rowHeight;
    if (p.group === undefined) return { type: "value", key: p.key, node: p.members[0]!, rank: r, row: rw, x, top };
    const output = p.members.reduce((a, b) => (b.id > a.id ? b : a));
    return { type: "group", key: p.key, group: p.group, members: p.members, output, rank: r, row: rw, x, top };
  });
  const edges: Edge[] = edgeList.map(({ from, to }) => ({
    from: from.key,
    to: to.key,
    straight: rank.get(to.key)! === rank.get(from.key)! + 1 && row.get(to.key) === row.get(from.key),
  }));
  // Frames around the boxes of each unfolded use.
  const frames: Frame[] = [];
  for (const g of shownGroups) {
    const inside = boxes.filter((b) => (b.type === "value" ? b.node.groups.includes(g.key) : b.group.key.startsWith(`${g.key}.`)));
    if (inside.length === 0) continue;
    const depth = depthOf(g);
    const inset = 4 + 4 * depth;
    const x0 = Math.min(...inside.map((b) => b.x)) - COL_W / 2 + inset;
    const x1 = Math.max(...inside.map((b) => b.x)) + COL_W / 2 - inset;
    const y0 = Math.min(...inside.map((b) => b.top)) + ARC_ROOM + depth * HEADER_H;
    const y1 = Math.max(...inside.map((b) => b.top)) + rowHeight - inset;
    frames.push({ group: g, depth, x0, y0, x1, y1 });
  }
  const rows = Math.max(0, ...boxes.map((b) => b.row)) + 1;
  return { boxes, edges, frames, width: Math.max((maxRank + 1) * COL_W, 300), height: rows * rowHeight, chain, rowHeight, dotsTop };
}

/** The uses enclosing `g`, innermost first. */
function ancestors(g: DiagramGroup, groupOf: ReadonlyMap<string, DiagramGroup>): DiagramGroup[] {
  const out: DiagramGroup[] = [];
  for (let p = g.parent === undefined ? undefined : groupOf.get(g.parent); p !== undefined; p = p.parent === undefined ? undefined : groupOf.get(p.parent)) out.push(p);
  return out;
}
