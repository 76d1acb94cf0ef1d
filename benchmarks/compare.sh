#!/usr/bin/env bash
# Crema against its peers in one run: `crema time` on the reference nets, OpenBLAS SGEMM (peers/sgemm_bench.c) and
# PyTorch (peers/bench_torch.py), then the goal table with ratios. Caffe itself is not rebuilt here: its figures come
# from ../shared/reference/PERF.md (copied below), scaled by how fast OpenBLAS runs now against when they were taken.
#
#   benchmarks/compare.sh                 full run (installs libopenblas-dev python3-torch with apt-get when root, else skips peers)
#   benchmarks/compare.sh --dry-run       < 1 minute: builds, one LeNet iteration, BenchmarkDotNet kernels in-process (Dry job); no claims
#   options: --iterations N (crema time, default 20) --repeats R (default 3) --no-install --no-peers --nets a,b
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/compare.py" "$@"
