/** A graph for the playground's tests (unit and browser): a block used three times. */

/** A residual MLP on the spiral: `residual` used three times (twice by `repeat`, once named). */
export const RESIDUAL = `# A residual MLP: one block, used three times.
block residual(width) {
  x = input
  dense width, relu
  dense width
  add x
}

model Residual {
  input 2
  dense 16, relu
  repeat 2 { residual 16 }
  r = residual 16
  dense 3, softmax
}

loss      cross_entropy
optimizer adam(lr: 0.01)
metrics   accuracy, loss

data {
  train spiral(size: 300, noise: 0.1, classes: 3)
  test  20%
}

train {
  epochs 30
  batch  32
}
`;
