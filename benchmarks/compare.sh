#!/usr/bin/env bash
# Crema against its peers in one run: `crema time` on the reference nets, one SGD iteration (Crema.Benchmarks train-step)
# against PyTorch's train step (peers/bench_torch.py), CaffeNet's peak memory against a model of Caffe's
# (caffe_memory.py: modelled, not measured), and Crema's SGEMM (Crema.Benchmarks sgemm-table) against OpenBLAS
# (peers/sgemm_bench.c) in the four transpose cases with 1 and 2 threads, interleaved; then the goal tables with ratios. Caffe itself is not rebuilt here: its figures come
# from ../shared/reference/PERF.md (copied below), scaled by how fast OpenBLAS runs now against when they were taken.
#
#   benchmarks/compare.sh                 full run (installs libopenblas-dev python3-torch with apt-get when root, else skips peers)
#   benchmarks/compare.sh --dry-run       < 1 minute: builds, one LeNet iteration, every mode once on tiny settings,
#                                         BenchmarkDotNet kernels in-process (Dry job); no claims
#   options: --iterations N (crema time, default 20) --repeats R (default 3) --no-install --no-peers --nets a,b
#            --sgemm-cases NN,TT|all --sgemm-shapes sq1024,alex_conv2|all --sgemm-threads 1,2 --sgemm-repeats R (default 1)
#            --no-sgemm --no-train --train-iterations N (default 20) --no-memory --verbose --markdown FILE
#   quick look: --nets lenet_b64 --repeats 1 --sgemm-shapes sq1024 --sgemm-cases NN
#   benchmarks/compare.sh --inference     Crema Net.Forward() vs ONNX Runtime vs OpenCV DNN (benchmarks/inference.py):
#            --inf-nets squeezenet,caffenet,googlenet,resnet50,vgg16 --inf-batches 1,10 --inf-runs 20 --inf-isas avx512,avx2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/compare.py" "$@"
