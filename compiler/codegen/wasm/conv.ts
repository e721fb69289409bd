/**
 * A convolution's kernels as WebAssembly functions that go through the batch one sample at a
 * time, so the unfolded windows never take more than one sample's rows of scratch memory
 * ([OH·OW, K], planned for the node's step alone):
 *
 *   convFunction     conv2d and conv2d_dw: the sample's windows unfolded into the scratch
 *                    (im2col), then the matrix product over them — the forward writes the
 *                    sample's output rows; the weight gradient adds the sample's dzᵀ·windows
 *                    to dw, zeroed first.
 *   convDxFunction   conv2d_dx: the product dz·w of the sample into the scratch, then its rows
 *                    added back onto the sample's windows of dx (col2im).
 *
 * Each takes the batch size n. The products are `products.ts`'s loops with constant sizes,
 * their operands shifted by the sample (`KernelSpec.sample`). `bmmFunction` is the same loop
 * without windows: attention's batched products, one per sample and head.
 */
import { Body, type WasmFunction } from "./encode.js";
import { productInto, transposeInto, type KernelSpec } from "./products.js";
import { countedLoop, locals } from "./loops.js";
import { foldSample, unfoldSample, zeroFloats, type WindowSpec } from "./im2col.js";

/** A conv2d or conv2d_dw kernel: the windows of the image at `x` unfolded into `col`, then `product` (one sample's, reading col). */
export interface ConvSpec {
  readonly name: string;
  readonly windows: WindowSpec;
  readonly product: KernelSpec;
}

export function convFunction(p: ConvSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  transposeInto(f, L, p.product);
  // dw = Σ over samples: zero it first (its [F, K] are contiguous).
  if (p.product.accumulate === true) zeroFloats(f, undefined, p.product.out, (p.product.rows as number) * p.product.cols);
  const sample = f.local("i32", "sample");
  countedLoop(
    f,
    sample,
    0,
    "n",
    1,
    () => {
      unfoldSample(f, p.windows, sample);
      productInto(f, L, p.product, sample);
    },
    L.n,
  );
  return { name: p.name, body: f };
}

/** A conv2d_dx kernel: `product` (one sample's dz·w, into col), then col folded onto the image at `x` (dx). */
export function convDxFunction(p: ConvSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  const sample = f.local("i32", "sample");
  countedLoop(
    f,
    sample,
    0,
    "n",
    1,
    () => {
      productInto(f, L, p.product, sample);
      foldSample(f, p.windows, sample);
    },
    L.n,
  );
  return { name: p.name, body: f };
}

/** A bmm kernel: called with the number of products (n × heads), it runs `product` for each, A, B and the output shifted by it. */
export function bmmFunction(name: string, product: KernelSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  const index = f.local("i32", "product");
  countedLoop(f, index, 0, "n", 1, () => productInto(f, L, product, index), L.n);
  return { name, body: f };
}

/**
 * A product summed over the batch (a pointwise convolution's weight gradient, dzᵀ·x over n·P
 * rows), one sample's P rows at a time, each sample's product added to the output (zeroed
 * first, its rows × cols contiguous): a sample's rows of both operands stay in cache while
 * every block of the output runs over them.
 */
export function batchSumFunction(name: string, product: KernelSpec): WasmFunction {
  const f = new Body(["i32"], ["n"]);
  const L = locals(f);
  zeroFloats(f, undefined, product.out, (product.rows as number) * product.cols);
  const sample = f.local("i32", "sample");
  countedLoop(f, sample, 0, "n", 1, () => productInto(f, L, product, sample), L.n);
  return { name, body: f };
}
