#!/usr/bin/env bash
# Trains LeNet on the bundled MNIST digits (8,000 train / 2,000 test), as Caffe's examples/mnist:
# converts the IDX files to LMDBs on first run, then trains with lenet_solver.prototxt.
# Extra arguments go to `crema train` (e.g. -iterations 500).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DATA=data/mnist-10k
for split in train test; do
  db="examples/mnist/mnist_${split}_lmdb"
  prefix=$([ "$split" = train ] && echo train || echo test)
  if [ ! -f "$db/data.mdb" ]; then
    ./crema convert_mnist_data "$DATA/${prefix}-images-idx3-ubyte.gz" "$DATA/${prefix}-labels-idx1-ubyte.gz" "$db"
  fi
done
./crema train -solver examples/mnist/lenet_solver.prototxt "$@"
