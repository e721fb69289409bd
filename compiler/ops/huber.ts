/** Huber loss: ½e² for |e| ≤ delta, delta·(|e| − ½delta) beyond (e = p − t). */
import { lossOp, type LossDef } from "./loss.js";

export const huberDef: LossDef = {
  kind: "huber",
  term: (p, t, d) =>
    `Math.abs(${p} - ${t}) <= ${d} ? 0.5 * (${p} - ${t}) * (${p} - ${t}) : ${d} * (Math.abs(${p} - ${t}) - 0.5 * ${d})`,
  grad: (p, t, d) => `${p} - ${t} > ${d} ? ${d} : ${p} - ${t} < -${d} ? -${d} : ${p} - ${t}`,
  mean: "all",
};

export const huber = lossOp(huberDef);
