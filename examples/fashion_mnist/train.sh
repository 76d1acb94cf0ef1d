#!/usr/bin/env bash
# Trains LeNet on the full Fashion-MNIST (60,000 train / 10,000 test) with Caffe's lenet_solver settings.
# Usage: examples/fashion_mnist/train.sh [folder with the four IDX .gz files]
# Data, in this order: the folder given; /work/shared/data/fashion-mnist; Debian's dataset-fashion-mnist package
# (/usr/share/datasets/fashion-mnist, installed with apt-get if missing). Extra arguments after the folder go to `crema train`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

has_all() {
  local f
  for f in "${FILES[@]}"; do [ -f "$1/$f" ] || return 1; done
}

DATA=""
if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
  DATA="$1"
  shift
  has_all "$DATA" || { echo "train.sh: $DATA lacks one of: ${FILES[*]}" >&2; exit 1; }
elif has_all /work/shared/data/fashion-mnist; then
  DATA=/work/shared/data/fashion-mnist
elif has_all /usr/share/datasets/fashion-mnist; then
  DATA=/usr/share/datasets/fashion-mnist
else
  # Debian's package installs the files under /usr/share/datasets/fashion-mnist; ask dpkg in case that moves.
  if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
    echo "train.sh: no data folder given; installing Debian's dataset-fashion-mnist" >&2
    apt-get install -y dataset-fashion-mnist >&2 || {
      echo "train.sh: could not install dataset-fashion-mnist; give the folder with ${FILES[*]}" >&2
      exit 1
    }
  fi
  DATA="$(dirname "$(dpkg -L dataset-fashion-mnist | grep '/train-images-idx3-ubyte.gz$' | head -1)")"
  has_all "$DATA" || { echo "train.sh: dataset-fashion-mnist has no ${FILES[*]}; give the folder" >&2; exit 1; }
fi

for split in train test; do
  db="examples/fashion_mnist/fashion_${split}_lmdb"
  prefix=$([ "$split" = train ] && echo train || echo t10k)
  if [ ! -f "$db/data.mdb" ]; then
    ./crema convert_mnist_data "$DATA/${prefix}-images-idx3-ubyte.gz" "$DATA/${prefix}-labels-idx1-ubyte.gz" "$db"
  fi
done
./crema train -solver examples/fashion_mnist/lenet_solver.prototxt "$@"
