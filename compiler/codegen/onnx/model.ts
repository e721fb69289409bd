/**
 * The ONNX target's entry: a checked `Program` and its weights → the bytes of an `.onnx` file
 * for inference (IR version 8, opset 17), written with `onnx-proto` (protobufjs; browser-safe).
 *
 *   lower (the forward graph, unfused) → buildOnnxGraph (`emit.ts`) → protobuf
 *
 * The file takes each input of the model as it is declared ([batch, …shape], float32, already
 * preprocessed as for the module's `predict`; token ids as floats) and gives `output`, what
 * `predict` gives: the output layer's activation (softmax, sigmoid) included. Strings from the
 * `.nn` file (input and layer names, the model's name) are protobuf strings: data, never code.
 */
import onnx from "onnx-proto";
import type { Diagnostic, Result } from "../../../grammar/diagnostics.js";
import { hasErrors } from "../../../grammar/diagnostics.js";
import { lower } from "../../lower.js";
import type { Program } from "../../program.js";
import { BOOL, INT64, OnnxGraph, type Initializer, type OnnxAttr, type OnnxValueInfo } from "./graph.js";
import { buildOnnxGraph, type OnnxWeights } from "./emit.js";

const { onnx: O } = onnx;

export const ONNX_OPSET = 17;
/** IR version 8 (ONNX 1.10+, which opset 17 needs; `onnx-proto`'s enum stops at 7, the number is what counts). */
export const ONNX_IR_VERSION = 8;

export interface OnnxOptions {
  /** Class names (a weights file's `preprocess.classes`), kept as metadata `classes` (a JSON array). */
  readonly classes?: readonly string[];
  /** The nnc version, as the file's producer version. */
  readonly version?: string;
}

export interface OnnxExport {
  readonly bytes: Uint8Array;
  /** The graph the bytes encode (its size for the CLI's summary; tests read it). */
  readonly graph: OnnxGraph;
}

/** The model of `program` with these weights as an ONNX file; NN3040 names an op with no ONNX form. */
export function exportOnnx(program: Program, weights: OnnxWeights, options: OnnxOptions = {}): Result<OnnxExport | undefined> {
  const diagnostics: Diagnostic[] = [];
  const lowered = lower(program, { maxBatch: 1, dtype: "float32" });
  diagnostics.push(...lowered.diagnostics);
  if (lowered.value === undefined || hasErrors(diagnostics)) return { value: undefined, diagnostics };
  const built = buildOnnxGraph(lowered.value, program.model.inputs, weights);
  diagnostics.push(...built.diagnostics);
  if (built.value === undefined) return { value: undefined, diagnostics };
  return { value: { bytes: encodeOnnx(built.value, program.model.name, options), graph: built.value }, diagnostics };
}

function attribute(name: string, a: OnnxAttr): onnx.onnx.IAttributeProto {
  const T = O.AttributeProto.AttributeType;
  if ("int" in a) return { name, type: T.INT, i: a.int };
  if ("float" in a) return { name, type: T.FLOAT, f: a.float };
  return { name, type: T.INTS, ints: [...a.ints] };
}

/** A tensor's values as little-endian raw bytes (the compact form, whatever the machine's byte order). */
function rawData(t: Initializer): Uint8Array {
  const size = t.type === INT64 ? 8 : t.type === BOOL ? 1 : 4;
  const view = new DataView(new ArrayBuffer(t.values.length * size));
  for (let i = 0; i < t.values.length; i++) {
    const v = t.values[i] as number;
    if (t.type === INT64) view.setBigInt64(i * 8, BigInt(v), true);
    else if (t.type === BOOL) view.setUint8(i, v !== 0 ? 1 : 0);
    else view.setFloat32(i * 4, v, true);
  }
  return new Uint8Array(view.buffer);
}

function valueInfo(v: OnnxValueInfo): onnx.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.type, shape: { dim: v.shape.map((d) => (d === "batch" ? { dimParam: "batch" } : { dimValue: d })) } } },
  };
}

/** The graph as the bytes of an `.onnx` file; `name` (the model's) names the graph. */
export function encodeOnnx(g: OnnxGraph, name: string, options: OnnxOptions = {}): Uint8Array {
  const model = O.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: "nnc",
    producerVersion: options.version ?? "",
    docString: `${name}: inputs as nnc's predict takes them (preprocessed, NHWC images, token ids as floats); output as predict gives it`,
    metadataProps: [
      { key: "nnc.layout", value: "NHWC" },
      ...(options.classes !== undefined ? [{ key: "classes", value: JSON.stringify(options.classes) }] : []),
    ],
    graph: {
      name,
      node: g.nodes.map((n) => ({
        opType: n.opType,
        name: n.name,
        input: [...n.inputs],
        output: [n.output],
        attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a)),
        ...(n.doc !== "" ? { docString: n.doc } : {}),
      })),
      initializer: g.initializers.map((t) => ({ name: t.name, dataType: t.type, dims: [...t.dims], rawData: rawData(t) })),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  });
  return O.ModelProto.encode(model).finish();
}

