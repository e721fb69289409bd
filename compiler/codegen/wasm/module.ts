/**
 * The WebAssembly half of a module generated with `kernels: "wasm"`: where each float buffer
 * lives in the kernels' linear memory, which matrix products became kernels, and the code
 * that embeds, compiles and instantiates them.
 *
 * The memory is fixed in size (initial = maximum pages), so the `Float32Array` views the
 * TypeScript side holds on it never detach. Its layout, in bytes:
 *
 *     params | grads | optimizer moments | activations, adjoints, masks | copy of the input
 *
 * each block 16-byte aligned. The input is copied in only when a kernel reads it.
 */
import { encodeModule, printModule, type WasmFunction } from "./encode.js";
import { col2imFunction, im2colFunction, kernelForm, kernelFunction, maxpoolFunction, updateFunction, type KernelSpec } from "./kernels.js";
import type { ConvDxRequest, KernelRequest, PoolRequest } from "../../ops/types.js";
import type { Optimizer } from "../../program.js";
import { commentText } from "../names.js";
import { describeOptimizer } from "../module.js";

interface BufferLike {
  readonly name: string;
  readonly init: string;
  readonly elements: number;
  readonly view?: { readonly of: "params" | "grads"; readonly offset: number };
}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
const INPUT_COPY = "xIn";
/** Reductions shorter than this run as axpy loops over a transposed copy of the second operand. */
const SHORT_DEPTH = 32;

export class WasmKernels {
  private readonly address = new Map<string, number>();
  private readonly own = new Map<string, number>();
  private readonly params: number;
  private readonly grads: number;
  private readonly moments: number;
  private top = 0;
  private inputAt: number | undefined;
  private readonly functions: WasmFunction[] = [];
  private readonly docs: string[] = [];

  constructor(
    buffers: readonly BufferLike[],
    private readonly paramCount: number,
    private readonly momentCount: number,
    private readonly inputElements: number,
    private readonly maxBatch: number,
  ) {
    this.params = this.claim(paramCount);
    this.grads = this.claim(paramCount);
    this.moments = this.claim(momentCount * paramCount);
    for (const b of buffers) {
      if (b.view !== undefined) {
        this.address.set(b.name, (b.view.of === "params" ? this.params : this.grads) + 4 * b.view.offset);
      } else if (b.init.startsWith("new Float32Array(")) {
        const at = this.claim(b.elements);
        this.address.set(b.name, at);
        this.own.set(b.name, b.elements);
      }
    }
  }

  /** Adds a kernel and its line in the module's comment; one kernel per output buffer. */
  private register(fn: WasmFunction, doc: string): void {
    if (this.functions.some((g) => g.name === fn.name)) throw new Error(`bug: two kernels write ${fn.name}`);
    this.functions.push(fn);
    this.docs.push(doc);
  }

  private claim(elements: number): number {
    const at = this.top;
    this.top = align16(this.top + 4 * elements);
    return at;
  }

  /** The call of a new kernel for this product, or undefined (no wasm form, or a buffer outside the memory). */
  request(r: KernelRequest, inputName: string): string | undefined {
    const { a, b, out, bias, relu, mask, reluGradOf, act, actGradOf, rowsPerSample: _rows, ...shape } = r;
    const names = [a, b, out, bias, mask, reluGradOf, actGradOf?.saved].filter((x): x is string => x !== undefined);
    if (names.some((x) => x !== inputName && !this.address.has(x))) return undefined;
    const at = (name: string): number => {
      if (name !== inputName) return this.address.get(name) as number;
      if (this.inputAt === undefined) this.inputAt = this.claim(this.inputElements);
      return this.inputAt;
    };
    const spec: KernelSpec = {
      ...shape,
      name: out,
      a: at(a),
      b: at(b),
      out: at(out),
      ...(bias !== undefined ? { bias: at(bias) } : {}),
      ...(relu === true ? { relu: true } : {}),
      ...(mask !== undefined ? { mask: at(mask) } : {}),
      ...(reluGradOf !== undefined ? { reluGradOf: at(reluGradOf) } : {}),
      ...(act !== undefined ? { act } : {}),
      ...(actGradOf !== undefined ? { actGradOf: { act: actGradOf.act, saved: at(actGradOf.saved) } } : {}),
    };
    const found = kernelForm(spec);
    if (found !== "dot" && found !== "axpy") return undefined;
    // A short reduction leaves the dot loop little to sum per output: transpose the (small)
    // second operand into scratch memory on each call and run the axpy loop instead.
    const transpose = found === "dot" && typeof r.depth === "number" && r.depth < SHORT_DEPTH && r.cols >= 4 && r.bC === r.depth && r.oC === 1;
    const final: KernelSpec = transpose ? { ...spec, b: this.claim((r.depth as number) * r.cols), bD: r.cols, bC: 1, transposeB: { from: spec.b } } : spec;
    this.register(kernelFunction(final), describe(r, transpose ? "axpy" : found) + (transpose ? `, ${b} transposed first` : ""));
    return `kernels.${out}(n);`;
  }

  private get pages(): number {
    return Math.max(1, Math.ceil(this.top / 65536));
  }

  /** Bytes of the kernels' memory, once every kernel is registered. */
  get memoryBytes(): number {
    return this.pages * 65536;
  }

  /** The call of a max-pooling kernel, or undefined (channels not a multiple of 4, padding). */
  maxpool(r: PoolRequest, inputName: string): string | undefined {
    const inside = r.pt === 0 && r.pl === 0 && (r.oh - 1) * r.sh + r.kh <= r.h && (r.ow - 1) * r.sw + r.kw <= r.w;
    if (r.c % 4 !== 0 || !inside || r.x === inputName) return undefined;
    const [x, out, arg] = [this.address.get(r.x), this.address.get(r.out), this.address.get(r.arg)];
    if (x === undefined || out === undefined || arg === undefined) return undefined;
    this.register(maxpoolFunction({ ...r, name: r.out, x, out, arg }), `${r.out}(n): ${r.kh}×${r.kw} max pooling of ${r.x}, stride ${r.sh}×${r.sw}, 4 channels at a time, positions in ${r.arg}`);
    return `kernels.${r.out}(n);`;
  }

  /** The call of an im2col kernel, or undefined (channels not a multiple of 4, or too wide to unroll). */
  im2col(r: Omit<PoolRequest, "arg">): string | undefined {
    if (r.c % 4 !== 0 || (r.kh * r.kw * r.c) / 4 > 1024) return undefined;
    const [x, col] = [this.address.get(r.x), this.address.get(r.out)];
    if (x === undefined || col === undefined) return undefined;
    this.register(im2colFunction({ ...r, name: r.out, x, col }), `${r.out}(n): the ${r.kh}×${r.kw} windows of ${r.x} as rows, 4 channels per copy, zeros over the padding`);
    return `kernels.${r.out}(n);`;
  }

  /**
   * A convolution's input gradient as two kernels: dcol = dz·w (the axpy loop, into scratch
   * memory for the batch's window rows), then col2im adds each row back onto its window.
   */
  convDx(r: ConvDxRequest): string | undefined {
    if (r.c % 4 !== 0) return undefined;
    const [dz, w, dx] = [this.address.get(r.dz), this.address.get(r.weights), this.address.get(r.dx)];
    if (dz === undefined || w === undefined || dx === undefined) return undefined;
    const positions = r.oh * r.ow;
    const k = r.kh * r.kw * r.c;
    const dcol = this.claim(this.maxBatch * positions * k);
    const cols = `${r.dx}Cols`;
    this.register(
      kernelFunction({ name: cols, a: dz, b: w, out: dcol, rows: "n", cols: k, depth: r.f, aR: r.f, aD: 1, bD: k, bC: 1, oR: k, oC: 1 }),
      `${cols}(n·${positions}): n·${positions}×${k}, sums of ${r.f} products of ${r.dz} and ${r.weights}, into scratch memory (axpy loop)`,
    );
    const { h, w: width, c, kh, kw, sh, sw, pt, pl, oh, ow } = r;
    this.register(
      col2imFunction({ h, w: width, c, kh, kw, sh, sw, pt, pl, oh, ow, name: r.dx, x: dx, col: dcol }),
      `${r.dx}(n): ${cols}'s rows added back onto their ${r.kh}×${r.kw} windows, 4 channels per step`,
    );
    return `{\nconst rows = n * ${positions};\nkernels.${cols}(rows);\n}\nkernels.${r.dx}(n);`;
  }

  /**
   * The optimizer as a wasm kernel (4 parameters per step) and the TypeScript \`update\` that
   * computes the per-step scalars and calls it; undefined for what it does not cover
   * (gradient clipping, RMSprop: those keep the TypeScript loop).
   */
  update(o: Optimizer, ranges: readonly (readonly [number, number])[], T: (t: string) => string, num: (x: number) => string): string | undefined {
    if (o.clipNorm > 0 || o.clipValue > 0 || o.kind === "rmsprop" || ranges.length === 0) return undefined;
    const adam = o.kind === "adam" || o.kind === "adamw";
    const decoupled = o.kind === "adamw" && o.weightDecay > 0;
    this.register(
      updateFunction({
        kind: adam ? "adam" : "sgd",
        params: this.params,
        grads: this.grads,
        moments: this.moments,
        count: this.paramCount,
        ranges,
        momentum: o.kind === "sgd" ? o.momentum : 0,
        nesterov: o.kind === "sgd" && o.nesterov,
        beta1: adam ? o.beta1 : 0,
        beta2: adam ? o.beta2 : 0,
        epsilon: adam ? o.epsilon : 0,
        l2: o.kind !== "adamw" ? o.weightDecay : 0,
        decoupled,
      }),
      `update(s0, s1, s2): ${commentText(describeOptimizer(o))} over ${ranges.map(([a, b]) => `params[${a}..${b})`).join(", ")}, 4 at a time`,
    );
    const lines = [`// optimizer: ${commentText(describeOptimizer(o))}, in the wasm kernel \`update\``, `function update(lr${T(": number")})${T(": void")} {`, `step++;`];
    if (adam) {
      lines.push(`const stepSize = lr / (1 - Math.pow(${num(o.beta1)}, step));`, `const root2 = Math.sqrt(1 - Math.pow(${num(o.beta2)}, step));`);
      lines.push(decoupled ? `kernels.update(stepSize, root2, lr * ${num(o.weightDecay)}); // decoupled weight decay` : `kernels.update(stepSize, root2, 0);`);
    } else lines.push(`kernels.update(lr, 0, 0);`);
    lines.push(`}`);
    return lines.join("\n");
  }

  /** The kernels in the WebAssembly text format, after every kernel is registered. */
  wat(): string {
    return printModule(this.pages, this.functions);
  }

  /** Top-level code: the kernels' bytes, what each computes, and their one-time compilation. */
  moduleCode(ts: boolean): string {
    const bytes = encodeModule(this.pages, this.functions);
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
        ...this.functions.map((f) => `${f.name}(${f.body.paramNames.map((p) => `${p}: number`).join(", ")}): void;`),
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
    if (this.inputAt !== undefined) lines.push(`const ${INPUT_COPY} = new Float32Array(heap, ${this.inputAt}, ${this.inputElements}); // the input, where the kernels read it`);
    return lines;
  }

  /** A buffer's initializer: a view of the memory for the ones laid out there. */
  init(b: BufferLike): string | undefined {
    const elements = this.own.get(b.name);
    return elements === undefined ? undefined : `new Float32Array(heap, ${this.address.get(b.name)}, ${elements})`;
  }

  /** First statement of `run`: the input copied into the memory, when a kernel reads it. */
  copyInput(inputName: string, inSize: number): string {
    if (this.inputAt === undefined) return "";
    return `for (let i = 0; i < n * ${inSize}; i++) ${INPUT_COPY}[i] = ${inputName}[i]; // into the kernels' memory`;
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
