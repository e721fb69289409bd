#!/bin/sh
# Draws the figures of docs/explain.md into docs/img/ from freshly trained examples.
# Run from the repository root after `npm run build`. Fashion-MNIST needs
# `apt-get install dataset-fashion-mnist`; without it, those figures are skipped.
set -e
nnc() { node dist/nnc.mjs "$@"; }

nnc train examples/digits-cnn.nn --out runs/digits-cnn --quiet
nnc train examples/iris.nn --out runs/iris --quiet

W=runs/digits-cnn/weights.json
nnc explain examples/digits-cnn.nn --weights $W --method saliency --limit 8 --svg docs/img/explain-digits-saliency.svg > /dev/null
nnc explain examples/digits-cnn.nn --weights $W --method ig --limit 8 --svg docs/img/explain-digits-ig.svg > /dev/null
nnc explain examples/digits-cnn.nn --weights $W --method gradcam --limit 8 --svg docs/img/explain-digits-gradcam.svg > /dev/null

W=runs/iris/weights.json
nnc explain examples/iris.nn --weights $W --method ig --limit 6 --svg docs/img/explain-iris-ig.svg > /dev/null
nnc explain examples/iris.nn --weights $W --method ig --summary --svg docs/img/explain-iris-summary.svg > /dev/null

if [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  nnc train examples/fashion-cnn.nn --out runs/fashion-cnn --quiet
  W=runs/fashion-cnn/weights.json
  nnc explain examples/fashion-cnn.nn --weights $W --method saliency --limit 8 --svg docs/img/explain-fashion-saliency.svg > /dev/null
  nnc explain examples/fashion-cnn.nn --weights $W --method smoothgrad --limit 8 --svg docs/img/explain-fashion-smoothgrad.svg > /dev/null
  nnc explain examples/fashion-cnn.nn --weights $W --method gradcam --limit 8 --svg docs/img/explain-fashion-gradcam.svg > /dev/null
fi
