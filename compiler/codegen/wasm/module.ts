/**
 * The WebAssembly half of a module generated with `kernels: "wasm"`: where each float buffer
 * lives in the kernels' linear memory, which matrix products became kernels, and the code
 * that embeds, compiles and instantiates them.
 *
 * The memory is fixed in size (initial = maximum pages), so the `Float32Array` views the
 * TypeScript side holds on it never detach. Its layout, in bytes:
 *
 *     params | grads | optimizer moments | the float32 arena of the buffer plan
 *
 * each block 16-byte aligned. The arena (`../buffers.ts`) holds activations, adjoints, masks,
 * the kernels' scratch memory and, when a kernel reads it, a copy of the input, at planned
 * offsets: buffers whose lifetimes do not overlap share bytes. Kernels are registered while
 * the ops emit their code (by buffer name: the scratch they need joins the plan as the
 * current node's) and built, with every address a constant, once the plan is placed.
 */
import { encodeModule, printModule, type WasmFunction } from "./encode.js";
import { kernelForm, kernelFunction, type KernelSpec } from "./products.js";
import { updateFunction } from "./update.js";
import { maxpoolFunction } from "./pooling.js";
import { col2imFunction, im2colFunction } from "./im2col.js";
import type { ConvDxRequest, KernelRequest, PoolRequest } from "../../ops/types.js";
import type { Optimizer } from "../../program.js";
import { commentText } from "../names.js";
import { describeOptimizer, optimizerDef } from "../../optimizers/index.js";
import type { BufferPlan, ScratchRequest, StoragePlan } from "../buffers.js";

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
const INPUT_COPY = "xIn";
/** Reductions shorter than this run as axpy loops over a transposed copy of the second operand. */
const SHORT_DEPTH = 32;

/** Byte address of a buffer, by name, once the plan is placed. */
type At = (name: string) => number;

export class WasmKernels {
  /** Byte addresses of parameter and gradient views, fixed from the start. */
  private readonly views = new Map<string, number>();
  /** Names of the float buffers the plan will place in the memory. */
  private readonly planned = new Set<string>();
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
    private readonly maxBatch: number,
  ) {
    this.paramCount = storage.paramCount;
    this.params = 0;
    this.grads = align16(4 * this.paramCount);
    this.moments = this.grads + align16(4 * this.paramCount);
    this.arenaAt = this.moments + align16(4 * momentCount * this.paramCount);
    storage.storage.forEach((s, id) => {
      if (s.kind === "param" || s.kind === "grad") this.views.set(storage.name(id), (s.kind === "param" ? this.params : this.grads) + 4 * s.offset);
      else if (s.kind === "buffer" && s.type === "float32") this.planned.add(storage.name(id));
    });
    for (const b of storage.aux) if (b.type === "float32") this.planned.add(b.name);
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

  /** Fixes every address from the plan (the float32 arena after params, grads and moments) and builds the kernels. */
  place(plan: BufferPlan): void {
    const address = new Map(this.views);
    for (const b of plan.buffers) if (b.type === "float32") address.set(b.name, this.arenaAt + 4 * b.offset);
    const arena = plan.arenas.find((a) => a.type === "float32");
    this.top = this.arenaAt + 4 * (arena?.elements ?? 0);
    this.address = address;
    const at = (name: string): number => {
      const a = address.get(name);
      if (a === undefined) throw new Error(`bug: no address for ${name}`);
      return a;
    };
    this.functions = this.pending.map((p) => p.build(at));
  }

  /** The call of a new kernel for this product, or undefined (no wasm form, or a buffer outside the memory). */
  request(r: KernelRequest): string | undefined {
    const { a, b, out, bias, relu, mask, reluGradOf, act, actGradOf, rowsPerSample: _rows, ...shape } = r;
    const names = [a, b, out, bias, mask, reluGradOf, actGradOf?.saved].filter((x): x is string => x !== undefined);
    if (!names.every((x) => this.inMemory(x))) return undefined;
    // The form depends on the strides only; addresses are filled in once the plan is placed.
    const form = kernelForm({ ...shape, name: out, a: 0, b: 0, out: 0 });
    if (form !== "dot" && form !== "axpy") return undefined;
    const [ra, rb, rBias, rMask, rRelu, rSaved] = [a, b, bias, mask, reluGradOf, actGradOf?.saved].map((x) => (x !== undefined ? this.operand(x) : undefined));
    // A short reduction leaves the dot loop little to sum per output: transpose the (small)
    // second operand into scratch memory on each call and run the axpy loop instead.
    const transpose = form === "dot" && typeof r.depth === "number" && r.depth < SHORT_DEPTH && r.cols >= 4 && r.bC === r.depth && r.oC === 1;
    const bT = transpose ? this.claim(`${b}ᵀ for ${out}`, (r.depth as number) * r.cols, `${b} transposed, for the kernel ${out}`) : undefined;
    this.register(
      out,
      (at) => {
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
        };
        return kernelFunction(bT !== undefined ? { ...spec, b: at(bT), bD: r.cols, bC: 1, transposeB: { from: spec.b } } : spec);
      },
      describe(r, transpose ? "axpy" : form) + (transpose ? `, ${b} transposed first` : ""),
    );
    return `kernels.${out}(n);`;
  }

  private get pages(): number {
    if (this.address === undefined) throw new Error("bug: the wasm memory is sized once the buffer plan is placed");
    return Math.max(1, Math.ceil(this.top / 65536));
  }

  /** Bytes of the kernels' memory, once the plan is placed. */
  get memoryBytes(): number {
    return this.pages * 65536;
  }

  /** Whether a pooling or im2col kernel can name this buffer (not the input: those read it in TypeScript). */
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

  /** The call of an im2col kernel, or undefined (channels not a multiple of 4, or too wide to unroll). */
  im2col(r: Omit<PoolRequest, "arg">): string | undefined {
    if (r.c % 4 !== 0 || (r.kh * r.kw * r.c) / 4 > 1024 || ![r.x, r.out].every((x) => this.laidOut(x))) return undefined;
    this.register(r.out, (at) => im2colFunction({ ...r, name: r.out, x: at(r.x), col: at(r.out) }), `${r.out}(n): the ${r.kh}×${r.kw} windows of ${r.x} as rows, 4 channels per copy, zeros over the padding`);
    return `kernels.${r.out}(n);`;
  }

  /**
   * A convolution's input gradient as two kernels: dcol = dz·w (the axpy loop, into scratch
   * memory for the batch's window rows), then col2im adds each row back onto its window.
   */
  convDx(r: ConvDxRequest): string | undefined {
    if (r.c % 4 !== 0 || ![r.dz, r.weights, r.dx].every((x) => this.laidOut(x))) return undefined;
    const positions = r.oh * r.ow;
    const k = r.kh * r.kw * r.c;
    const cols = `${r.dx}Cols`;
    const dcol = this.claim(cols, this.maxBatch * positions * k, `the window rows of ${r.dx}, for the kernel ${cols}`);
    this.register(
      cols,
      (at) => kernelFunction({ name: cols, a: at(r.dz), b: at(r.weights), out: at(dcol), rows: "n", cols: k, depth: r.f, aR: r.f, aD: 1, bD: k, bC: 1, oR: k, oC: 1 }),
      `${cols}(n·${positions}): n·${positions}×${k}, sums of ${r.f} products of ${r.dz} and ${r.weights}, into scratch memory (axpy loop)`,
    );
    const { h, w: width, c, kh, kw, sh, sw, pt, pl, oh, ow } = r;
    this.register(
      r.dx,
      (at) => col2imFunction({ h, w: width, c, kh, kw, sh, sw, pt, pl, oh, ow, name: r.dx, x: at(r.dx), col: at(dcol) }),
      `${r.dx}(n): ${cols}'s rows added back onto their ${r.kh}×${r.kw} windows, 4 channels per step`,
    );
    return `{\nconst rows = n * ${positions};\nkernels.${cols}(rows);\n}\nkernels.${r.dx}(n);`;
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
      `// --kernels wasm --emit wat\` prints them as text). Each takes the batch size n (a convolution`,
      `// gets its window rows, n·positions); every address and every other size is a constant:`,
      ...this.docs.map((d) => `//   ${d}`),
      `// Everything else (softmax, loss, optimizer, …) is the TypeScript below. The model's`,
      `// float buffers are views of the kernels' memory (${this.pages} × 64 KiB).`,
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
    if (this.inputRead) lines.push(`const ${INPUT_COPY} = ${this.view(INPUT_COPY, this.input.elements)}; // the input, where the kernels read it`);
    return lines;
  }

  /** A float32 buffer of the plan as a view of the memory. */
  view(name: string, elements: number): string {
    const at = this.address?.get(name);
    if (at === undefined) throw new Error(`bug: ${name} has no address in the wasm memory`);
    return `new Float32Array(heap, ${at}, ${elements})`;
  }

  /** First statement of `run`: the input copied into the memory, when a kernel reads it. */
  copyInput(inSize: number): string {
    if (!this.inputRead) return "";
    return `for (let i = 0; i < n * ${inSize}; i++) ${INPUT_COPY}[i] = ${this.input.name}[i]; // into the kernels' memory`;
  }
}

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
  const sum = r.depth === "n" ? (per === "n" ? "over the batch of products" : `over the batch's ${per} window rows of products`) : `of ${r.depth} products`;
  const call = per === "n" ? "(n)" : `(n·${r.rowsPerSample})`;
  return `${r.out}${call}: ${rows}×${r.cols}, sums ${sum} of ${r.a} and ${r.b}${epilogue.length > 0 ? ", then " + epilogue.join(", ") : ""} (${form} loop)`;
}
