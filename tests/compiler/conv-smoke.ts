import { checkSource } from "../../compiler/check.js";
import { compileProgram } from "../../compiler/compile.js";
import { loadModule } from "../../compiler/load.js";
import { gradcheck } from "../../cli/commands/gradcheck.js";
const src = `model T {
  input [6, 5, 2]
  conv2d 3, 3, relu, padding: same
  maxpool2d 2, padding: same
  conv2d 2, [2, 2], tanh
  avgpool2d 2, stride: 1
  flatten
  dense 3, softmax
}
loss cross_entropy
optimizer sgd(lr: 0.1)
train { batch 5 }
`;
const c = checkSource(src);
console.log(c.diagnostics);
const out = compileProgram(c.value!, { target: "js", dtype: "float64", emit: ["fused"] });
console.log(out.diagnostics);
console.log(out.value!.fused);
const mod = loadModule(out.value!.code);
console.log(gradcheck(mod, { batch: 3, perTensor: 100 }));
