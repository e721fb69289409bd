/**
 * The WebAssembly half of a module generated with `kernels: "wasm"`: where each buffer lives
 * in the kernels' linear memory, which ops became kernels, and the code that embeds, compiles
 * and instantiates them.
 *
 * The memory is fixed in size (initial = maximum pages), so the typed-array views the
 * TypeScript side holds on it never detach. Its layout, in bytes:
 *
 *     params | grads | optimizer moments | the arena of the buffer plan
 *
 * each block 16-byte aligned. The arena (`../buffers.ts`) holds every other buffer of the
 * model — activations, adjoints, masks, a max pool's int32 positions, scratch memory (a
 * convolution's unfolded windows, a transposed operand, gather lists) and, when a kernel reads
 * it, a copy of the input — at planned offsets: buffers whose lifetimes do not overlap share
 * bytes. Kernels are registered while the ops emit their code (by buffer name: the scratch
 * they need joins the plan as the current node's) and built, with every address a constant,
 * once the plan is placed.
 */
import { encodeModule, printModule, type WasmFunction } from "./encode.js";
import { kernelForm, kernelFunction, type KernelSpec } from "./products.js";
import { updateFunction } from "./update.js";
import { maxpoolFunction, maxpoolGradFunction } from "./pooling.js";
import { sparseDwFunction, sparseDxFunction } from "./sparse.js";
import { unfoldable } from "./im2col.js";
import { batchSumFunction, bmmFunction, convDxFunction, convFunction } from "./conv.js";
import { cellGradKernel, cellKernel, scanFunction, stepFunction, type CellKernel } from "./recurrent.js";
import { dwhFunction } from "./dwh.js";
import type { CellGradRequest, CellRequest, StepProduct } from "../ts/recurrent.js";
import type { ConvDxRequest, ConvRequest, KernelRequest, PoolGradRequest, PoolRequest } from "./lowering.js";
import { nestBuffers, nestFunction, placeNests, type NestRequest } from "./pointwise.js";
import { rowsFunction, type RowsRequest } from "./rows.js";
import type { Optimizer } from "../../program.js";
import { commentText } from "../names.js";
import { describeOptimizer, optimizerDef } from "../../optimizers/index.js";
import type { BufferPlan, ElementType, ScratchRequest, StoragePlan } from "../buffers.js";

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
const VIEW: Readonly<Record<ElementType, string>> = { float32: "Float32Array", float64: "Float64Array", int32: "Int32Array" };
const INPUT_COPY = "xIn";
/**
 * Reductions shorter than this run as axpy loops over a transposed copy of the second operand;
 * up to WIDE_DEPTH when the columns fill the axpy loop's 8-wide blocks (a sequence's per-step
 * dense layers: 64 → 256 went from 3× the time of its input gradient to parity).
 */
const SHORT_DEPTH = 32;
const WIDE_DEPTH = 128;

/**
 * A weight gradient over the non-zero values of dz alone needs windows this long: the list costs
 * a scan of dz per filter, which a short window row does not pay back (fashion-cnn's first
 * convolution, K = 9: 0.7 ms per step dense, 1.3 sparse; its second, K = 144: 2.7 → 1.6).
 */
const SPARSE_MIN_K = 32;

/** Byte address of a buffer, by name, once the plan is placed. */
type At = (name: string) => number;

export class WasmKernels {
  /** Byte addresses of parameter and gradient views, fixed from the start. */
  private readonly views = new Map<string, number>();
  /** Names of the buffers the plan will place in the memory (values; scratch is added as the ops ask for it). */
  readonly planned = new Set<string>();
  private readonly paramCount: number;
  private readonly params: number;
  private readonly grads: number;
  private readonly moments: number;
  private readonly arenaAt: number;
  /** Kernels, built once every address is known (`place`). */
  private readonly pending: { readonly name: string; readonly build: (at: At) => WasmFunction }[] = [];
  private readonly docs: string[] = [];
  private functions: WasmFunction[] | undefined;
  private address: Map<string, number> | undefined;
  private top = 0;
  private scratch: ScratchRequest[] = [];
  private inputRead = false;

  constructor(
    storage: StoragePlan,
    private readonly momentCount: number,
    private readonly input: { readonly name: string; readonly elements: number },
  ) {
    this.paramCount = storage.paramCount;
    this.params = 0;
    this.grads = align16(4 * this.paramCount);
    this.moments = this.grads + align16(4 * this.paramCount);
    this.arenaAt = this.moments + align16(4 * momentCount * this.paramCount);
    storage.storage.forEach((s, id) => {
      if (s.kind === "param" || s.kind === "grad") this.views.set(storage.name(id), (s.kind === "param" ? this.params : this.grads) + 4 * s.offset);
      else if (s.kind === "buffer") this.planned.add(storage.name(id));
    });
  }

  /** Adds a kernel and its line in the module's comment; one kernel per output buffer. */
  private register(name: string, build: (at: At) => WasmFunction, doc: string): void {
    if (this.pending.some((g) => g.name === name)) throw new Error(`bug: two kernels write ${name}`);
    this.pending.push({ name, build });
    this.docs.push(doc);
  }

  /** Memory that the kernel being registered needs while it runs, placed by the buffer plan. */
  private claim(name: string, elements: number, comment: string): string {
    this.scratch.push({ name, elements, type: "float32", comment });
    this.planned.add(name);
    return name;
  }

  /** Whether a kernel can name this buffer: a view of params/grads, a planned float buffer or the input (copied in). */
  private inMemory(name: string): boolean {
    return name === this.input.name || this.views.has(name) || this.planned.has(name);
  }

  /** The name a kernel reads a buffer under (the input: its copy in the memory). */
  private operand(name: string): string {
    if (name !== this.input.name) return name;
    this.inputRead = true;
    return this.claim(INPUT_COPY, this.input.elements, "the input, where the kernels read it");
  }

  /**
   * The scratch memory (and the input copy) the kernels registered since the last call asked
   * for: the module records it as the current node's, so the plan keeps it live in that step.
   */
  drain(): ScratchRequest[] {
    const s = this.scratch;
    this.scratch = [];
    return s;
  }

  /** The input copy, when a kernel reads the input: it is made at the start of `run`. */
  get inputCopy(): ScratchRequest | undefined {
    return this.inputRead ? { name: INPUT_COPY, elements: this.input.elements, type: "float32", comment: "the input, where the kernels read it" } : undefined;
  }

  /** Fixes every address from the plan (the arena after params, grads and moments) and builds the kernels. */
  place(plan: BufferPlan): void {
    const address = new Map(this.views);
    for (const b of plan.buffers) address.set(b.name, this.arenaAt + b.offset);
    this.top = this.arenaAt + plan.bytes;
    this.address = address;
    const at = (name: string): number => {
      const a = address.get(name);
      if (a === undefined) throw new Error(`bug: no address for ${name}`);
      return a;
    };
    this.functions = this.pending.map((p) => p.build(at));
  }

  /**
   * A product's kernel spec once the plan is placed, and how it is described; undefined when
   * it has no wasm form or reads a buffer outside the memory. Claims the scratch its
   * transposed operand needs, so call it only when the kernel will be registered.
   */
  private product(r: KernelRequest): { build: (at: At) => KernelSpec; /** What it computes, after `name(n): `. */ doc: string } | undefined {
    const { a, b, out, bias, relu, mask, reluGradOf, act, actGradOf, rowsPerSample: _rows, sample, accumulate, ...shape } = r;
    const names = [a, b, out, bias, mask, reluGradOf, actGradOf?.saved].filter((x): x is string => x !== undefined);
    if (!names.every((x) => this.inMemory(x))) return undefined;
    // The form depends on the strides only; addresses are filled in once the plan is placed.
    const form = kernelForm({ ...shape, name: out, a: 0, b: 0, out: 0 });
    if (form !== "dot" && form !== "axpy") return undefined;
    const [ra, rb, rBias, rMask, rRelu, rSaved] = [a, b, bias, mask, reluGradOf, actGradOf?.saved].map((x) => (x !== undefined ? this.operand(x) : undefined));
    // A short reduction leaves the dot loop little to sum per output: transpose the (small)
    // second operand into scratch memory on each call and run the axpy loop instead.
    // (Not for bmm: its B moves with each product, and the copy is made once per call.)
    // A convolution's forward (one sample's product, B the filters) copies them once per call
    // for n samples' windows: any depth then, when the columns fill the 8-wide blocks.
    const limit = r.cols % 8 !== 0 ? SHORT_DEPTH : sample !== undefined ? Infinity : WIDE_DEPTH;
    const transpose = form === "dot" && sample?.b === undefined && typeof r.depth === "number" && r.depth < limit && r.cols >= 4 && r.bC === r.depth && r.oC === 1;
    const bT = transpose ? this.claim(`${b}ᵀ for ${out}`, (r.depth as number) * r.cols, `${b} transposed, for the kernel ${out}`) : undefined;
    const build = (at: At): KernelSpec => {
      const spec: KernelSpec = {
        ...shape,
        name: out,
        a: at(ra as string),
        b: at(rb as string),
        out: at(out),
        ...(rBias !== undefined ? { bias: at(rBias) } : {}),
        ...(relu === true ? { relu: true } : {}),
        ...(rMask !== undefined ? { mask: at(rMask) } : {}),
        ...(rRelu !== undefined ? { reluGradOf: at(rRelu) } : {}),
        ...(act !== undefined ? { act } : {}),
        ...(actGradOf !== undefined && rSaved !== undefined ? { actGradOf: { act: actGradOf.act, saved: at(rSaved) } } : {}),
        ...(sample !== undefined ? { sample } : {}),
        ...(accumulate === true ? { accumulate } : {}),
      };
      return bT !== undefined ? { ...spec, b: at(bT), bD: r.cols, bC: 1, transposeB: { from: spec.b } } : spec;
    };
    return { build, doc: describe(r, transpose ? "axpy" : form) + (transpose ? `, ${b} transposed first` : "") };
  }

  /** The call of a new kernel for this product (with its row count: n, or n·pixels for a pointwise convolution), or undefined (no wasm form, or a buffer outside the memory). */
  request(r: KernelRequest): string | undefined {
    if (r.sample !== undefined || r.accumulate === true) throw new Error(`bug: ${r.out} is one sample's product: a convolution kernel runs it`);
    const summed = this.batchSum(r);
    if (summed !== undefined) return summed;
    const p = this.product(r);
    if (p === undefined) return undefined;
    this.register(r.out, (at) => kernelFunction(p.build(at)), `${r.out}(${r.rowsPerSample !== undefined && r.rowsPerSample > 1 ? `n·${r.rowsPerSample}` : "n"}): ${p.doc}`);
    return `kernels.${r.out}(${rowCount(r)});`;
  }

  /**
   * A product whose reduction runs over the batch's n·P rows (a pointwise convolution's weight
   * gradient) as P rows per sample, added up (`batchSumFunction`); undefined for any other.
   */
  private batchSum(r: KernelRequest): string | undefined {
    const { rowsPerSample: per, ...rest } = r;
    const epilogue = [r.bias, r.relu, r.mask, r.reluGradOf, r.act, r.actGradOf].some((x) => x !== undefined);
    if (r.depth !== "n" || per === undefined || per < 2 || r.rows === "n" || epilogue || r.oR !== r.cols || r.oC !== 1) return undefined;
    const p = this.product({ ...rest, depth: per, sample: { a: per * r.aD, b: per * r.bD }, accumulate: true });
    if (p === undefined) return undefined;
    this.register(r.out, (at) => batchSumFunction(r.out, p.build(at)), `${r.out}(n): per sample, ${p.doc}, added up over the batch`);
    return `kernels.${r.out}(n);`;
  }

  /** The call of a convolution kernel (conv2d or conv2d_dw: each sample's windows unfolded, then the product), or undefined. */
  conv(r: ConvRequest): string | undefined {
    const { image, windows, product, sparse, ...g } = r;
    if (!unfoldable(g) || !this.inMemory(image) || !this.inMemory(windows)) return undefined;
    if (sparse === true && product.accumulate === true && product.cols >= SPARSE_MIN_K && this.inMemory(product.a) && this.inMemory(product.out)) return this.sparseDw(r);
    const p = this.product(product);
    if (p === undefined) return undefined;
    const x = this.operand(image);
    const name = product.out;
    this.register(
      name,
      (at) => convFunction({ name, windows: { ...g, x: at(x), col: at(windows) }, product: p.build(at) }),
      `${name}(n): per sample, the ${g.kh}×${g.kw} windows of ${image} unfolded into ${windows}, then ${p.doc}${product.accumulate === true ? ", added up over the batch" : ""}`,
    );
    return `kernels.${name}(n);`;
  }

  /** conv2d_dw over the non-zero values of dz alone (`sparse.ts`), with a list of one filter's values in scratch memory. */
  private sparseDw(r: ConvRequest): string {
    const { image, windows, product, sparse: _, ...g } = r;
    const x = this.operand(image);
    const dw = product.out;
    const positions = g.oh * g.ow;
    const list = this.claim(`${dw}List`, 2 * positions, `one filter's non-zero values of ${product.a} and their window rows, for the kernel ${dw}`);
    this.register(
      dw,
      (at) => sparseDwFunction({ name: dw, windows: { ...g, x: at(x), col: at(windows) }, dz: at(product.a), w: at(dw), list: at(list), f: product.rows as number }),
      `${dw}(n): per sample, the ${g.kh}×${g.kw} windows of ${image} unfolded into ${windows}, then for each filter, ${product.cols} sums over the non-zero values of ${product.a} times their window rows, added up over the batch`,
    );
    return `kernels.${dw}(n);`;
  }

  /** The call of a bmm kernel: `per` products per sample (one per head), each with its operands shifted; undefined when it has no wasm form. */
  bmm(r: KernelRequest, per: number): string | undefined {
    const p = this.product(r);
    if (p === undefined) return undefined;
    this.register(r.out, (at) => bmmFunction(r.out, p.build(at)), `${r.out}(n·${per}): for each sample and head, ${p.doc}`);
    return `kernels.${r.out}(n * ${per});`;
  }

  /**
   * The call of a recurrent layer's per-step product with the step's index (an expression), or
   * undefined; the node's own TypeScript loop calls it (`ts/recurrent.ts`). With `fromTape`,
   * dWh's kernel instead (`dwh.ts`), called with n.
   */
  step(p: StepProduct, index: string): string | undefined {
    if (p.fromTape !== undefined) return this.dwh(p, p.fromTape);
    const q = this.stepProduct(p);
    if (q === undefined) return undefined;
    this.register(p.out, (addr) => stepFunction(p.out, q.build(addr)), `${p.out}(n, step): ${q.doc}, the operands moved by the step`);
    return `kernels.${p.out}(${p.depthPerSample !== undefined ? `n * ${p.depthPerSample}` : "n"}, ${index});`;
  }

  /** A step product's spec, its operands moved to where index 0 reads them, and its description; undefined as `product`. */
  private stepProduct(p: StepProduct): { build: (at: At) => KernelSpec; doc: string } | undefined {
    const { a, b, out, at, shift, accumulate, doc: _doc, depthPerSample: _per, ...shape } = p;
    const q = this.product({ ...shape, a, b, out, sample: shift, ...(accumulate ? { accumulate } : {}) });
    if (q === undefined) return undefined;
    const moved = (spec: KernelSpec): KernelSpec => {
      if (spec.transposeB !== undefined && at.b !== 0) throw new Error(`bug: ${out}: a moved B copied transposed`);
      return { ...spec, a: spec.a + 4 * at.a, b: spec.b + 4 * at.b, out: spec.out + 4 * at.out };
    };
    return { build: (addr) => moved(q.build(addr)), doc: q.doc };
  }

  /** The call of a forward scan's steps after the first as one kernel (`recurrent.ts`: each step's product, then its cell), or undefined. */
  private scan(r: CellRequest, p: StepProduct, reverse: boolean): string | undefined {
    const cell = cellKernel(r);
    if (r.steps < 2 || !cell.buffers.every((x) => this.laidOut(x))) return undefined;
    const q = this.stepProduct(p);
    if (q === undefined) return undefined;
    const name = `${r.tape}Scan`;
    this.register(name, (at) => scanFunction(name, q.build(at), cell, at, r.steps, reverse), `${name}(n): the ${r.cell.toUpperCase()}'s steps after the first, each step's product (${q.doc}, moved by the step) and cell`);
    return `kernels.${name}(n);`;
  }

  /** The call of a recurrent matrix's gradient kernel reading the states from the tape (`dwh.ts`), or undefined when a buffer is outside the memory. */
  private dwh(p: StepProduct, tape: NonNullable<StepProduct["fromTape"]>): string | undefined {
    if (tape.steps < 2 || typeof p.rows !== "number" || ![p.a, p.b, p.out].every((x) => this.laidOut(x))) return undefined;
    const spec = { steps: tape.steps, h: p.cols, g: p.rows, s: tape.s, d: p.aD, at: p.at.a, reverse: tape.reverse };
    this.register(p.out, (at) => dwhFunction({ ...spec, name: p.out, dz: at(p.a), tape: at(p.b), out: at(p.out) }), `${p.out}(n): per sample, Σ over its steps but the first of ${p.a}ᵀ times the state before the step, read from ${p.b}, added to ${p.out} (4 rows × 8 columns at a time)`);
    return `kernels.${p.out}(n);`;
  }

  /** The call of a recurrent cell kernel (`recurrent.ts`; `n, t, p`; with `scan`, the forward steps' kernel: `n`), or undefined when its buffers are outside the memory. */
  cell(r: CellRequest): string | undefined {
    if (r.scan !== undefined) return this.scan(r, r.scan.product, r.scan.reverse);
    return this.cellCall(cellKernel(r));
  }

  /** The call of a backward recurrent cell kernel, likewise. */
  cellGrad(r: CellGradRequest): string | undefined {
    return this.cellCall(cellGradKernel(r));
  }

  private cellCall(k: CellKernel): string | undefined {
    if (!k.buffers.every((x) => this.laidOut(x))) return undefined;
    this.register(k.name, k.build, k.doc);
    return `kernels.${k.name}(n, t, p);`;
  }

  /** The call of a pointwise kernel (`pointwise.ts`), or undefined when a buffer is outside the memory. */
  nests(r: NestRequest): string | undefined {
    if (!nestBuffers(r).every((x) => this.laidOut(x))) return undefined;
    this.register(r.out, (at) => nestFunction(r.out, placeNests(r, at)), `${r.out}(n): ${r.doc}`);
    return `kernels.${r.out}(n);`;
  }

  /** The call of a row kernel (`rows.ts`: softmax, its gradient, a causal mask), or undefined when a buffer is outside the memory. */
  rows(r: RowsRequest): string | undefined {
    if (![r.out, ...r.inputs].every((x) => this.laidOut(x))) return undefined;
    const what = r.kind === "causal_mask" ? `${r.inputs[0]} masked above the diagonal of each ${r.m}×${r.m} block` : r.kind === "softmax" ? `softmax of each row of ${r.inputs[0]}` : `softmax's gradient of each row, from ${r.inputs.join(" and ")}`;
    this.register(r.out, (at) => rowsFunction(r.out, { ...r, out: at(r.out), inputs: r.inputs.map(at) }), `${r.out}(n): ${what}${r.causal === true ? " (causal: up to the diagonal, 0 past it)" : ""}, 4 values at a time`);
    return `kernels.${r.out}(n);`;
  }

  private get pages(): number {
    if (this.address === undefined) throw new Error("bug: the wasm memory is sized once the buffer plan is placed");
    return Math.max(1, Math.ceil(this.top / 65536));
  }

  /** Bytes of the kernels' memory, once the plan is placed. */
  get memoryBytes(): number {
    return this.pages * 65536;
  }

  /** Whether a pooling kernel can name this buffer (not the input: a pool never reads it). */
  private laidOut(name: string): boolean {
    return this.views.has(name) || this.planned.has(name);
  }

  /** The call of a max-pooling kernel, or undefined (channels not a multiple of 4, padding). */
  maxpool(r: PoolRequest): string | undefined {
    const inside = r.pt === 0 && r.pl === 0 && (r.oh - 1) * r.sh + r.kh <= r.h && (r.ow - 1) * r.sw + r.kw <= r.w;
    if (r.c % 4 !== 0 || !inside || ![r.x, r.out, r.arg].every((x) => this.laidOut(x))) return undefined;
    this.register(r.out, (at) => maxpoolFunction({ ...r, name: r.out, x: at(r.x), out: at(r.out), arg: at(r.arg) }), `${r.out}(n): ${r.kh}×${r.kw} max pooling of ${r.x}, stride ${r.sh}×${r.sw}, 4 channels at a time, positions in ${r.arg}`);
    return `kernels.${r.out}(n);`;
  }

  /** ReLU gradients already applied by a max pool's gradient kernel: the pool gradient's buffer → the saved output's. */
  readonly reluApplied = new Map<string, string>();

  /** The call of a max pool's gradient kernel (`maxpoolGradFunction`), or undefined (as `maxpool`). */
  maxpoolGrad(r: PoolGradRequest): string | undefined {
    const inside = r.pt === 0 && r.pl === 0 && (r.oh - 1) * r.sh + r.kh <= r.h && (r.ow - 1) * r.sw + r.kw <= r.w;
    const { dy, arg, dx, reluGradOf, ...g } = r;
    if (r.c % 4 !== 0 || !inside || ![dy, arg, dx, ...(reluGradOf !== undefined ? [reluGradOf] : [])].every((x) => this.laidOut(x))) return undefined;
    if (reluGradOf !== undefined) this.reluApplied.set(dx, reluGradOf);
    const build = (at: At): WasmFunction => maxpoolGradFunction({ ...g, name: dx, dy: at(dy), arg: at(arg), dx: at(dx), ...(reluGradOf !== undefined ? { reluGradOf: at(reluGradOf) } : {}) });
    this.register(dx, build, `${dx}(n): ${r.kh}×${r.kw} max pooling's gradient of ${dy} through the positions in ${arg}${reluGradOf !== undefined ? `, zero where ${reluGradOf} ≤ 0 (ReLU's gradient)` : ""}`);
    return `kernels.${dx}(n);`;
  }

  /**
   * A convolution's input gradient as one kernel, per sample: dz·w (the axpy loop) into
   * scratch memory for the sample's window rows, then col2im adds each row back onto its window.
   */
  convDx(r: ConvDxRequest): string | undefined {
    if (!unfoldable(r) || ![r.dz, r.weights, r.dx].every((x) => this.inMemory(x))) return undefined;
    const positions = r.oh * r.ow;
    const k = r.kh * r.kw * r.c;
    const { dz, weights, dx, f, sparse, ...g } = r;
    const cols = this.claim(`${dx}Windows`, positions * k, `one sample's window rows of ${dx}, for its kernel`);
    if (sparse === true && k >= SPARSE_MIN_K) {
      const list = this.claim(`${dx}List`, 2 * f, `one position's non-zero values of ${dz} and their filters' rows, for the kernel ${dx}`);
      this.register(
        dx,
        (at) => sparseDxFunction({ name: dx, windows: { ...g, x: at(dx), col: at(cols) }, dz: at(dz), w: at(weights), list: at(list), f }),
        `${dx}(n): per sample, ${positions}×${k} sums over the non-zero values of ${dz} times their rows of ${weights} into ${cols}, then its rows added back onto their ${r.kh}×${r.kw} windows`,
      );
      return `kernels.${dx}(n);`;
    }
    const product: KernelRequest = { a: dz, b: weights, out: cols, rows: positions, cols: k, depth: f, aR: f, aD: 1, bD: k, bC: 1, oR: k, oC: 1, sample: { a: positions * f } };
    const p = this.product(product);
    if (p === undefined) throw new Error(`bug: no kernel for ${dx}'s window rows`);
    this.register(
      dx,
      (at) => convDxFunction({ name: dx, windows: { ...g, x: at(dx), col: at(cols) }, product: p.build(at) }),
      `${dx}(n): per sample, ${positions}×${k} sums of ${f} products of ${dz} and ${weights} into ${cols} (axpy loop), then its rows added back onto their ${r.kh}×${r.kw} windows`,
    );
    return `kernels.${dx}(n);`;
  }

  /**
   * The optimizer as a wasm kernel (4 parameters per step) and the TypeScript `update` that
   * computes the per-step scalars and calls it; undefined when its definition has no kernel, or
   * none for these settings (gradient clipping keeps the TypeScript loop).
   */
  update(o: Optimizer, ranges: readonly (readonly [number, number])[], T: (t: string) => string, num: (x: number) => string): string | undefined {
    const def = optimizerDef(o.kind);
    const form = o.clipNorm > 0 || o.clipValue > 0 || ranges.length === 0 ? undefined : def.wasm?.(o, num);
    if (form === undefined) return undefined;
    const spec = {
      ...form.kernel,
      params: this.params,
      grads: this.grads,
      moments: this.moments,
      count: this.paramCount,
      ranges,
      l2: def.decay === "l2" ? o.weightDecay : 0,
      decoupled: def.decay === "decoupled" && o.weightDecay > 0,
    };
    this.register(
      "update",
      () => updateFunction(spec),
      `update(s0, s1, s2): ${commentText(describeOptimizer(o))} over ${ranges.map(([a, b]) => `params[${a}..${b})`).join(", ")}, 4 at a time`,
    );
    const [s0, s1, s2] = form.args;
    const call = `kernels.update(${s0}, ${s1}, ${s2});${s2 !== "0" && def.decay === "decoupled" ? " // decoupled weight decay" : ""}`;
    return [`// optimizer: ${commentText(describeOptimizer(o))}, in the wasm kernel \`update\``, `function update(lr${T(": number")})${T(": void")} {`, `step++;`, ...form.pre, call, `}`].join("\n");
  }

  /** The kernels, once the plan is placed. */
  private get built(): readonly WasmFunction[] {
    if (this.functions === undefined) throw new Error("bug: the wasm kernels are built once the buffer plan is placed");
    return this.functions;
  }

  /** The kernels in the WebAssembly text format, once the plan is placed. */
  wat(): string {
    return printModule(this.pages, this.built);
  }

  /** Top-level code: the kernels' bytes, what each computes, and their one-time compilation. */
  moduleCode(ts: boolean): string {
    const bytes = encodeModule(this.pages, this.built);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    const lines: string[] = [];
    for (let i = 0; i < hex.length; i += 96) lines.push(`  "${hex.slice(i, i + 96)}",`);
    const out = [
      `// The matrix products run as WebAssembly SIMD kernels that nnc wrote for this model`,
      `// (${bytes.length} bytes, no toolchain; the text below is their binary in hex; \`nnc compile`,
      `// --kernels wasm --emit wat\` prints them as text). Each takes the batch size n (a pointwise`,
      `// convolution's product: its pixels, n·positions); every address and every other size is a constant:`,
      ...this.docs.map((d) => `//   ${d}`),
      `// Everything else (the loss, lookups, …) is the TypeScript below. The model's`,
      `// buffers are views of the kernels' memory (${this.pages} × 64 KiB).`,
    ];
    if (ts) {
      out.push(
        `declare const WebAssembly: {`,
        `Module: new (bytes: Uint8Array) => object;`,
        `compile(bytes: Uint8Array): Promise<object>;`,
        `Instance: new (module: object, imports: object) => { readonly exports: unknown };`,
        `};`,
        `interface Kernels {`,
        `readonly memory: { readonly buffer: ArrayBuffer };`,
        ...this.built.map((f) => `${f.name}(${f.body.paramNames.map((p) => `${p}: number`).join(", ")}): void;`),
        `}`,
      );
    }
    out.push(
      `const kernelHex = [\n${lines.join("\n")}\n].join("");`,
      `let kernelModule${ts ? ": object | undefined" : ""};`,
      `function kernelBytes()${ts ? ": Uint8Array" : ""} {`,
      `const bytes = new Uint8Array(kernelHex.length / 2);`,
      `for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(kernelHex.slice(2 * i, 2 * i + 2), 16);`,
      `return bytes;`,
      `}`,
      `function compiledKernels()${ts ? ": object" : ""} {`,
      `if (kernelModule === undefined) kernelModule = new WebAssembly.Module(kernelBytes());`,
      `return kernelModule;`,
      `}`,
      `// Compiles the kernels off the calling thread. createModel compiles them itself when needed,`,
      `// synchronously; on a browser's main thread, where Chrome compiles only modules under 4 KB`,
      `// synchronously, await this once before the first createModel.`,
      `export function prepareKernels()${ts ? ": Promise<void>" : ""} {`,
      `if (kernelModule !== undefined) return Promise.resolve();`,
      `return WebAssembly.compile(kernelBytes()).then(keepKernels);`,
      `}`,
      `function keepKernels(compiled${ts ? ": object" : ""})${ts ? ": void" : ""} {`,
      `kernelModule = compiled;`,
      `}`,
    );
    return out.join("\n");
  }

  /** The start of `createModel`: an instance with its own memory, and the arrays on it. */
  instanceCode(ts: boolean): string[] {
    const lines = [
      `const kernels = new WebAssembly.Instance(compiledKernels(), {}).exports${ts ? " as Kernels" : ""};`,
      `const heap = kernels.memory.buffer;`,
      `const params = new Float32Array(heap, ${this.params}, ${this.paramCount});`,
      `const grads = new Float32Array(heap, ${this.grads}, ${this.paramCount});`,
    ];
    if (this.momentCount > 0) lines.push(`const moments = new Float32Array(heap, ${this.moments}, ${this.momentCount * this.paramCount}); // optimizer state, laid out like params`);
    if (this.inputRead) lines.push(`const ${INPUT_COPY} = ${this.view(INPUT_COPY, "float32", this.input.elements)}; // the input, where the kernels read it`);
    return lines;
  }

  /** A buffer of the plan as a view of the memory. */
  view(name: string, type: ElementType, elements: number): string {
    const at = this.address?.get(name);
    if (at === undefined) throw new Error(`bug: ${name} has no address in the wasm memory`);
    return `new ${VIEW[type]}(heap, ${at}, ${elements})`;
  }

  /** First statement of `run`: the input copied into the memory, when a kernel reads it. */
  copyInput(inSize: number): string {
    if (!this.inputRead) return "";
    return `for (let i = 0; i < n * ${inSize}; i++) ${INPUT_COPY}[i] = ${this.input.name}[i]; // into the kernels' memory`;
  }
}

/** The argument of a product kernel's call: the batch n, or n·pixels for a pointwise convolution. */
function rowCount(r: KernelRequest): string {
  return r.rowsPerSample !== undefined && r.rowsPerSample > 1 ? `n * ${r.rowsPerSample}` : "n";
}

/** What a product kernel computes (its description after `name(n): `). */
function describe(r: KernelRequest, form: "dot" | "axpy"): string {
  const per = r.rowsPerSample !== undefined && r.rowsPerSample > 1 ? `n·${r.rowsPerSample}` : "n";
  const rows = r.rows === "n" ? per : String(r.rows);
  const epilogue = [
    r.bias !== undefined ? `+ ${r.bias}` : "",
    r.relu === true ? "relu" : "",
    r.act ?? "",
    r.mask !== undefined ? `× ${r.mask}` : "",
    r.reluGradOf !== undefined ? `where ${r.reluGradOf} > 0` : "",
    r.actGradOf !== undefined ? `× ${r.actGradOf.act}′ from ${r.actGradOf.saved}` : "",
  ].filter((x) => x !== "");
  const sum = r.depth === "n" ? (per === "n" ? "over the batch of products" : `over the batch's ${per} pixels of products`) : `of ${r.depth} products`;
  const causal = r.causal === undefined ? "" : r.causal === "out" ? ", causal: 0 past the diagonal's column blocks" : r.causal === "lower" ? `, causal: ${r.a} 0 above the diagonal, not summed` : `, causal: ${r.a}ᵀ 0 below the diagonal, not summed`;
  return `${rows}×${r.cols}, sums ${sum} of ${r.a} and ${r.b}${epilogue.length > 0 ? ", then " + epilogue.join(", ") : ""} (${form} loop${causal})`;
}
