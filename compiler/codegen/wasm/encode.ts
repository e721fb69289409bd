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

/** The float32 value of x in the text format: exact (the f32 rounding printed), −0 and ±inf kept. */
function f32Text(x: number): string {
  const v = Math.fround(x);
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (Number.isNaN(v)) return "nan";
  return Object.is(v, -0) ? "-0" : String(v);
}

/**
 * The body of one function: locals are declared by `local(type)`, instructions appended by
 * the methods below, which mirror the text format (`i32.add` → `i32Add()`). Each instruction
 * is recorded twice: as bytes, and as a line of the text format (`nnc compile --emit wat`).
 */
export class Body {
  private readonly code: number[] = [];
  private readonly text: string[] = [];
  private depth = 1;
  private readonly locals: ValType[] = [];
  /** Names of parameters and locals, for the text format (and the kernels' TypeScript declarations). */
  private readonly names: string[];
  readonly params: number;
  constructor(
    readonly paramTypes: readonly ValType[],
    paramNames: readonly string[] = [],
  ) {
    this.params = paramTypes.length;
    this.names = paramTypes.map((_, i) => paramNames[i] ?? `p${i}`);
  }

  /** A new local of this type (named in the text format, a number appended if the name is taken); its index. Parameters come first. */
  local(type: ValType, name = `l${this.names.length}`): number {
    let unique = name;
    for (let k = 2; this.names.includes(unique); k++) unique = `${name}${k}`;
    this.locals.push(type);
    this.names.push(unique);
    return this.params + this.locals.length - 1;
  }
  get paramNames(): readonly string[] {
    return this.names.slice(0, this.params);
  }
  private name(i: number): string {
    return `$${this.names[i] ?? i}`;
  }
  private op(text: string, ...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    if (text === "end") this.depth--;
    this.text.push("  ".repeat(this.depth) + text);
    if (text === "block" || text === "loop" || text === "if") this.depth++;
    return this;
  }
  private simd(text: string, op: number, ...imm: number[]): this {
    return this.op(text, 0xfd, ...uleb(op), ...imm);
  }
  /** A load or store; `align` is log2 of the alignment promised (4 bytes for every access: tensors start at any float). */
  private mem(name: string, prefix: number[], align: number, offset: number): this {
    const natural = { 1: 2, 2: 4, 4: 16 }[align] ?? 1;
    return this.op(`${name} offset=${offset} align=${natural}`, ...prefix, ...uleb(align), ...uleb(offset));
  }

  get(i: number): this {
    return this.op(`local.get ${this.name(i)}`, 0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(`local.set ${this.name(i)}`, 0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(`local.tee ${this.name(i)}`, 0x22, ...uleb(i));
  }
  i32(n: number): this {
    return this.op(`i32.const ${n}`, 0x41, ...sleb(n));
  }
  f32(x: number): this {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(`f32.const ${f32Text(x)}`, 0x43, ...b);
  }
  i32Add(): this {
    return this.op("i32.add", 0x6a);
  }
  i32Sub(): this {
    return this.op("i32.sub", 0x6b);
  }
  i32And(): this {
    return this.op("i32.and", 0x71);
  }
  i32Mul(): this {
    return this.op("i32.mul", 0x6c);
  }
  i32RemU(): this {
    return this.op("i32.rem_u", 0x70);
  }
  i32LtU(): this {
    return this.op("i32.lt_u", 0x49);
  }
  i32GtU(): this {
    return this.op("i32.gt_u", 0x4b);
  }
  i32GeU(): this {
    return this.op("i32.ge_u", 0x4f);
  }
  f32Add(): this {
    return this.op("f32.add", 0x92);
  }
  f32Mul(): this {
    return this.op("f32.mul", 0x94);
  }
  f32Sub(): this {
    return this.op("f32.sub", 0x93);
  }
  f32Div(): this {
    return this.op("f32.div", 0x95);
  }
  f32Sqrt(): this {
    return this.op("f32.sqrt", 0x91);
  }
  f32Abs(): this {
    return this.op("f32.abs", 0x8b);
  }
  f32Lt(): this {
    return this.op("f32.lt", 0x5d);
  }
  f32Min(): this {
    return this.op("f32.min", 0x96);
  }
  f32Max(): this {
    return this.op("f32.max", 0x97);
  }
  f32Gt(): this {
    return this.op("f32.gt", 0x5e);
  }
  select(): this {
    return this.op("select", 0x1b);
  }
  drop(): this {
    return this.op("drop", 0x1a);
  }
  /** `block` with no result. */
  block(): this {
    return this.op("block", 0x02, 0x40);
  }
  /** `loop` with no result. */
  loop(): this {
    return this.op("loop", 0x03, 0x40);
  }
  /** `if` with no result. */
  if(): this {
    return this.op("if", 0x04, 0x40);
  }
  else(): this {
    this.depth--;
    this.op("else", 0x05);
    this.depth++;
    return this;
  }
  end(): this {
    return this.op("end", 0x0b);
  }
  br(depth: number): this {
    return this.op(`br ${depth}`, 0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(`br_if ${depth}`, 0x0d, ...uleb(depth));
  }
  f32Load(offset: number): this {
    return this.mem("f32.load", [0x2a], 2, offset);
  }
  f32Store(offset: number): this {
    return this.mem("f32.store", [0x38], 2, offset);
  }
  v128Load(offset: number): this {
    return this.mem("v128.load", [0xfd, 0x00], 2, offset);
  }
  /** Load one f32 and copy it to the four lanes. */
  v128Load32Splat(offset: number): this {
    return this.mem("v128.load32_splat", [0xfd, 0x09], 2, offset);
  }
  v128Store(offset: number): this {
    return this.mem("v128.store", [0xfd, 0x0b], 2, offset);
  }
  v128Zero(): this {
    return this.simd("v128.const i32x4 0 0 0 0", 0x0c, ...new Array<number>(16).fill(0));
  }
  /** A v128 constant of four f32 lanes. */
  f32x4Const(lanes: readonly [number, number, number, number]): this {
    const bytes = [...new Uint8Array(new Float32Array(lanes).buffer)];
    const text = lanes.map(f32Text).join(" ");
    return this.simd(`v128.const f32x4 ${text}`, 0x0c, ...bytes);
  }
  /** Lane bits from the first operand where the mask (third) is set, else from the second. */
  v128Bitselect(): this {
    return this.simd("v128.bitselect", 0x52);
  }
  /** A v128 constant of four i32 lanes. */
  i32x4Const(lanes: readonly [number, number, number, number]): this {
    const bytes = [...new Uint8Array(new Int32Array(lanes).buffer)];
    return this.simd(`v128.const i32x4 ${lanes.join(" ")}`, 0x0c, ...bytes);
  }
  i32x4Splat(): this {
    return this.simd("i32x4.splat", 0x11);
  }
  i32x4Add(): this {
    return this.simd("i32x4.add", 0xae);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(`f32x4.extract_lane ${lane}`, 0x1f, lane);
  }
  f32x4Gt(): this {
    return this.simd("f32x4.gt", 0x44);
  }
  v128And(): this {
    return this.simd("v128.and", 0x4e);
  }
  f32x4Add(): this {
    return this.simd("f32x4.add", 0xe4);
  }
  f32x4Sub(): this {
    return this.simd("f32x4.sub", 0xe5);
  }
  f32x4Div(): this {
    return this.simd("f32x4.div", 0xe7);
  }
  f32x4Sqrt(): this {
    return this.simd("f32x4.sqrt", 0xe3);
  }
  f32x4Abs(): this {
    return this.simd("f32x4.abs", 0xe0);
  }
  f32x4Lt(): this {
    return this.simd("f32x4.lt", 0x43);
  }
  f32x4Min(): this {
    return this.simd("f32x4.min", 0xe8);
  }
  f32x4Max(): this {
    return this.simd("f32x4.max", 0xe9);
  }
  f32x4Splat(): this {
    return this.simd("f32x4.splat", 0x13);
  }
  f32x4Mul(): this {
    return this.simd("f32x4.mul", 0xe6);
  }
  f32x4Neg(): this {
    return this.simd("f32x4.neg", 0xe1);
  }
  f32Neg(): this {
    return this.op("f32.neg", 0x8c);
  }
  /** Per lane a ≤ b (signed): all ones or zero. */
  i32x4LeS(): this {
    return this.simd("i32x4.le_s", 0x3d);
  }
  /** Each i32 lane shifted left by the i32 on top of the stack. */
  i32x4Shl(): this {
    return this.simd("i32x4.shl", 0xab);
  }
  /** Pairwise products of the eight i16 lanes, each adjacent pair summed into an i32 lane (exact). */
  i32x4DotI16x8S(): this {
    return this.simd("i32x4.dot_i16x8_s", 0xba);
  }
  i32x4ExtractLane(lane: number): this {
    return this.simd(`i32x4.extract_lane ${lane}`, 0x1b, lane);
  }
  /** i8x16.shuffle by four i32 lanes of the two operands (0–3 the first, 4–7 the second). */
  i32x4Shuffle(lanes: readonly [number, number, number, number]): this {
    const bytes = lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
    return this.simd(`i8x16.shuffle ${bytes.join(" ")}`, 0x0d, ...bytes);
  }
  f32x4ConvertI32x4S(): this {
    return this.simd("f32x4.convert_i32x4_s", 0xfa);
  }
  /** Per lane a = b: all ones or zero. */
  i32x4Eq(): this {
    return this.simd("i32x4.eq", 0x37);
  }
  i32Store(offset: number): this {
    return this.mem("i32.store", [0x36], 2, offset);
  }
  /** a ≠ b (1 or 0; NaN ≠ anything). */
  f32Ne(): this {
    return this.op("f32.ne", 0x5c);
  }
  i32Load(offset: number): this {
    return this.mem("i32.load", [0x28], 2, offset);
  }
  i32Load16S(offset: number): this {
    return this.mem("i32.load16_s", [0x2e], 1, offset);
  }
  i32Store16(offset: number): this {
    return this.mem("i32.store16", [0x3b], 1, offset);
  }
  /** Round to nearest, ties to even, per lane. */
  f32x4Nearest(): this {
    return this.simd("f32x4.nearest", 0x6a);
  }
  /** f32 → i32 per lane, saturating (NaN → 0). */
  i32x4TruncSatF32x4S(): this {
    return this.simd("i32x4.trunc_sat_f32x4_s", 0xf8);
  }
  i32x4Sub(): this {
    return this.simd("i32x4.sub", 0xb1);
  }
  i32x4MinS(): this {
    return this.simd("i32x4.min_s", 0xb6);
  }
  i32x4MaxS(): this {
    return this.simd("i32x4.max_s", 0xb8);
  }
  /** Two i32x4 → one i16x8, each lane saturated to [−32768, 32767]. */
  i16x8NarrowI32x4S(): this {
    return this.simd("i16x8.narrow_i32x4_s", 0x85);
  }
  f32ConvertI32S(): this {
    return this.op("f32.convert_i32_s", 0xb2);
  }
  /** Lane-wise pmax(a, b) = a < b ? b : a: with a = 0, JavaScript's `b > 0 ? b : 0`, NaN → 0. */
  f32x4Pmax(): this {
    return this.simd("f32x4.pmax", 0xeb);
  }
  /** Lane-wise pmin(a, b) = b < a ? b : a (one minps; NaN in a stays). */
  f32x4Pmin(): this {
    return this.simd("f32x4.pmin", 0xea);
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

  /** The signature's parameters, the locals and the instructions in the text format. */
  print(): { params: string; lines: string[] } {
    const params = this.paramTypes.map((t, i) => ` (param $${this.names[i]} ${t})`).join("");
    const locals = this.locals.map((t, i) => `  (local $${this.names[this.params + i]} ${t})`);
    return { params, lines: [...locals, ...this.text] };
  }
}

export interface WasmFunction {
  /** Export name. */
  readonly name: string;
  /** Parameters and locals, instructions. */
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
  // One type per distinct parameter list: (params) → ().
  const signature = (f: WasmFunction): string => f.body.paramTypes.join(",");
  const kinds = [...new Map(functions.map((f) => [signature(f), f.body.paramTypes])).entries()];
  const types = kinds.map(([, ps]) => [0x60, ...uleb(ps.length), ...ps.map((t) => VALTYPE[t]), 0]);
  const funcs = functions.map((f) => uleb(kinds.findIndex(([k]) => k === signature(f))));
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

/** The same module in the WebAssembly text format (what `encodeModule` writes, readable). */
export function printModule(pages: number, functions: readonly WasmFunction[]): string {
  const out = [`(module`, `  (memory (export "memory") ${pages} ${pages})`];
  for (const f of functions) {
    const { params, lines } = f.body.print();
    out.push(`  (func $${f.name} (export "${f.name}")${params}`, ...lines.map((l) => "  " + l), `  )`);
  }
  out.push(`)`);
  return out.join("\n") + "\n";
}
