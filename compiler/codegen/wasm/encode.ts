/**
 * A minimal WebAssembly binary writer: just what nnc's kernels need (one memory, functions of
 * i32 parameters, i32/f32/v128 locals, structured loops, loads, stores and the SIMD
 * arithmetic), no external toolchain. Opcodes are from the WebAssembly 2.0 core
 * specification, SIMD included (`0xfd` prefix); nothing from later proposals (no relaxed SIMD),
 * so every engine that runs Node 20 or a 2021+ browser runs the result.
 */

export type ValType = "i32" | "f32" | "v128";
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

/** Unsigned LEB128. */
export function uleb(n: number, out: number[] = []): number[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`bug: uleb(${n})`);
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number, out: number[] = []): number[] {
  if (!(Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff)) throw new Error(`bug: sleb(${n})`);
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

/**
 * The body of one function: locals are declared by `local(type)`, instructions appended by
 * the methods below, which mirror the text format (`i32.add` → `i32Add()`).
 */
export class Body {
  private readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  constructor(readonly params: number) {}

  /** A new local of this type; its index. Parameters come first (0..params-1). */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params + this.locals.length - 1;
  }
  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(op: number, ...imm: number[]): this {
    this.code.push(0xfd, ...uleb(op), ...imm);
    return this;
  }
  private memarg(align: number, offset: number): number[] {
    return [...uleb(align), ...uleb(offset)];
  }

  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  i32(n: number): this {
    return this.op(0x41, ...sleb(n));
  }
  f32(x: number): this {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(0x43, ...b);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GtU(): this {
    return this.op(0x4b);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Gt(): this {
    return this.op(0x5e);
  }
  select(): this {
    return this.op(0x1b);
  }
  drop(): this {
    return this.op(0x1a);
  }
  /** `block` with no result. */
  block(): this {
    return this.op(0x02, 0x40);
  }
  /** `loop` with no result. */
  loop(): this {
    return this.op(0x03, 0x40);
  }
  /** `if` with no result. */
  if(): this {
    return this.op(0x04, 0x40);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  f32Load(offset: number): this {
    return this.op(0x2a, ...this.memarg(2, offset));
  }
  f32Store(offset: number): this {
    return this.op(0x38, ...this.memarg(2, offset));
  }
  v128Load(offset: number): this {
    return this.simd(0x00, ...this.memarg(4, offset));
  }
  /** Load one f32 and copy it to the four lanes. */
  v128Load32Splat(offset: number): this {
    return this.simd(0x09, ...this.memarg(2, offset));
  }
  v128Store(offset: number): this {
    return this.simd(0x0b, ...this.memarg(4, offset));
  }
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** Lane-wise pmax(a, b) = a < b ? b : a: with a = 0, JavaScript's `b > 0 ? b : 0`, NaN → 0. */
  f32x4Pmax(): this {
    return this.simd(0xeb);
  }

  /** The encoded body: local declarations (run-length by type), code, `end`. */
  encode(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const out: number[] = uleb(groups.length);
    for (const [count, t] of groups) out.push(...uleb(count), VALTYPE[t]);
    const all = out.concat(this.code, [0x0b]);
    return uleb(all.length).concat(all);
  }
}

export interface WasmFunction {
  /** Export name. */
  readonly name: string;
  /** Number of i32 parameters. */
  readonly params: number;
  readonly body: Body;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/**
 * A module with one memory of `pages` 64 KiB pages (fixed: initial = maximum, so views on
 * its buffer stay valid), exported as "memory", and the functions, exported by name.
 */
export function encodeModule(pages: number, functions: readonly WasmFunction[]): Uint8Array {
  // One type per distinct parameter count: (i32 × k) → ().
  const arities = [...new Set(functions.map((f) => f.params))];
  const types = arities.map((k) => [0x60, ...uleb(k), ...new Array<number>(k).fill(VALTYPE.i32), 0]);
  const funcs = functions.map((f) => uleb(arities.indexOf(f.params)));
  const memory = [0x01, ...uleb(pages), ...uleb(pages)];
  const exportName = (s: string): number[] => [...uleb(bytesOf(s).length), ...bytesOf(s)];
  const exports = [
    [...exportName("memory"), 0x02, 0],
    ...functions.map((f, i) => [...exportName(f.name), 0x00, ...uleb(i)]),
  ];
  const codes = functions.map((f) => f.body.encode());
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs)),
    ...section(5, vec([memory])),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ]);
}
