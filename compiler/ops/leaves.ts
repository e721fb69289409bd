/**
 * Leaves of the graph: the input batch `x`, the labels `y`, and parameters (views into the flat
 * parameter array). They compute nothing; each node carries its own shape.
 */
import type { OpDef } from "./types.js";

const leaf = (name: string, doc: string): OpDef => ({
  name,
  doc,
  shape: () => {
    throw new Error(`bug: ${name} nodes carry their own shape`);
  },
});

export const input = leaf("input", "the input batch, n × inputSize");
export const label = leaf("label", "the labels, n × outputSize");
export const param = leaf("param", "a trainable tensor in the flat parameter array");
