#!/usr/bin/env python3
"""Modelled (not measured) lower bound on BVLC Caffe's memory for SGD training of a net: the bytes its buffers touch.

Caffe cannot be built here, so the peak-memory goal compares Crema's measured peak against this model. The rules below
were read from BVLC Caffe's sources (src/caffe/syncedmem.cpp, blob.cpp, net.cpp, layers/*.cpp, solvers/sgd_solver.cpp):

- A Blob holds two SyncedMemory buffers, data and diff, of count × 4 bytes. SyncedMemory allocates lazily: nothing until
  the first cpu_data()/mutable_cpu_data(), which mallocs and zero-fills (so every allocated byte is also resident).
- In-place layers (top named as a bottom: ReLU, Dropout here) reuse the bottom blob; nothing new.
- A blob read by more than one layer gets a Split layer: its tops share the bottom's data and own their diffs.
- Data: every top blob's data is touched in forward (Input tops when the first consumer reads them).
- Diff: touched in backward for every top of a layer that runs backward (it reads its top diffs); a loss top's diff is
  set to the loss weight at set-up. Bottom diffs are written only where propagated, except that Convolution's
  Backward_cpu fetches mutable_cpu_diff() of every bottom unconditionally, so conv1 also allocates the image diff.
  A layer runs backward when a bottom needs it or it has learnable parameters; Input tops do not need backward.
- Parameters: data (filled at set-up) and diff (zeroed by ClearParamDiffs every iteration).
- SGD solver: PreSolve creates history_, update_ and temp_ blobs shaped like every parameter, but only history_ is
  touched (momentum update); temp_ only for L1 regularisation, update_ not in SGD's CPU path.
- Per-layer buffers: Convolution col_buffer_ (kernel_dim·group × output spatial size: one image, unless the conv is
  1×1/stride 1/pad 0, then never touched) and bias_multiplier_ (output spatial size, set to 1); InnerProduct
  bias_multiplier_ (M); Pooling MAX max_idx_ (int, top shape; STOCHASTIC rand_idx_); LRN across channels scale_
  (bottom shape) plus per-call temporaries (forward padded_square 1×(C+size-1)×H×W; backward padded_ratio of the same
  size and accum_ratio 1×1×H×W data+diff) that are freed on return; Dropout rand_vec_ (uint, bottom shape, train
  phase); SoftmaxWithLoss prob_ (bottom shape) and its internal Softmax's scale_ (outer × inner) and sum_multiplier_
  (channels).

Peak = all persistent buffers (all exist from the second iteration on) + the largest per-call temporary.
A LOWER bound on Caffe's resident memory: it leaves out libcaffe, protobuf, glog, OpenBLAS code and OpenBLAS's
per-thread work buffers, malloc overhead, the process's own baseline, and a Data layer's prefetch queue (the
benchmark nets use Input layers). Usage: caffe_memory.py NET.prototxt [--batch-phase TRAIN]
"""
import math, re, sys

FLOAT = 4


def parse_prototxt(text):
    """Protobuf text format -> nested dicts of lists (every field a list, in order). Enough for net definitions."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{}:]|[^\s{}:"\']+', re.sub(r"#[^\n]*", "", text))
    pos = 0

    def block():
        nonlocal pos
        out = {}
        while pos < len(tokens) and tokens[pos] != "}":
            key = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            if tokens[pos] == "{":
                pos += 1
                value = block()
                pos += 1  # "}"
            else:
                value = tokens[pos]
                pos += 1
                if value[0] in "\"'":
                    value = value[1:-1]
            out.setdefault(key, []).append(value)
        return out

    return block()


def one(d, key, default=None, conv=str):
    return conv(d[key][0]) if d and key in d else default


def ints(d, key):
    return [int(v) for v in d.get(key, [])] if d else []


def estimate(net):
    """Returns (items, transient): items = [(category, name, bytes)] of persistent buffers, transient = (name, bytes)."""
    layers = [l for l in net.get("layer", []) if not any(one(r, "phase") == "TEST" for r in l.get("include", []))]
    shapes = {}       # blob name -> shape (current version)
    version = {}      # blob name -> its last producer's layer index (in-place layers included)
    consumers = {}    # last producer's layer index -> number of layers reading that version
    needs_bw = {}     # version id -> does backward reach it
    items, transient = [], ("none", 0)
    count = lambda s: math.prod(s)
    params = []       # (layer, [shapes]) with lr_mult per blob

    # Pass 1: shapes, producers and consumers.
    plan = []
    for i, l in enumerate(layers):
        t, name = one(l, "type"), one(l, "name")
        bottoms, tops = l.get("bottom", []), l.get("top", [])
        bshapes = [shapes[b] for b in bottoms]
        for b in bottoms:
            consumers[version[b]] = consumers.get(version[b], 0) + 1
        pshapes, buffers, temp, top_shapes = [], [], 0, []
        if t == "Input":
            ps = l["input_param"][0]["shape"]
            top_shapes = [ints(ps[min(j, len(ps) - 1)], "dim") for j in range(len(tops))]
        elif t in ("Convolution", "Deconvolution"):
            p = l["convolution_param"][0]
            nout, group, bias = one(p, "num_output", conv=int), one(p, "group", 1, int), one(p, "bias_term", "true") == "true"
            ks = ints(p, "kernel_size") or [one(p, "kernel_h", conv=int), one(p, "kernel_w", conv=int)]
            st = ints(p, "stride") or [one(p, "stride_h", 1, int), one(p, "stride_w", 1, int)]
            pd = ints(p, "pad") or [one(p, "pad_h", 0, int), one(p, "pad_w", 0, int)]
            dl = ints(p, "dilation") or [1]
            n, c, h, w = bshapes[0]
            kh, kw = ks[0], ks[-1]
            sh, sw, ph, pw, dh, dw = st[0], st[-1], pd[0], pd[-1], dl[0], dl[-1]
            if t == "Convolution":
                oh = (h + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
                ow = (w + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
                top_shapes = [[n, nout, oh, ow]] * len(tops)
                pshapes = [[nout, c // group, kh, kw]] + ([[nout]] if bias else [])
                col_spatial, out_spatial, cin = oh * ow, oh * ow, c
            else:
                oh, ow = sh * (h - 1) + dh * (kh - 1) + 1 - 2 * ph, sw * (w - 1) + dw * (kw - 1) + 1 - 2 * pw
                top_shapes = [[n, nout, oh, ow]] * len(tops)
                pshapes = [[c, nout // group, kh, kw]] + ([[nout]] if bias else [])
                col_spatial, out_spatial, cin = h * w, oh * ow, nout
            if not (kh == kw == 1 and sh == sw == 1 and ph == pw == 0):
                buffers.append(("col_buffer_", cin * kh * kw * col_spatial * FLOAT))
            if bias:
                buffers.append(("bias_multiplier_", out_spatial * FLOAT))
        elif t == "InnerProduct":
            p = l["inner_product_param"][0]
            nout, bias, axis = one(p, "num_output", conv=int), one(p, "bias_term", "true") == "true", one(p, "axis", 1, int)
            s = bshapes[0]
            m, k = count(s[:axis]), count(s[axis:])
            top_shapes = [s[:axis] + [nout]]
            pshapes = [[nout, k]] + ([[nout]] if bias else [])
            if bias:
                buffers.append(("bias_multiplier_", m * FLOAT))
        elif t == "Pooling":
            p = l.get("pooling_param", [{}])[0]
            method = one(p, "pool", "MAX")
            n, c, h, w = bshapes[0]
            if one(p, "global_pooling", "false") == "true":
                kh, kw, sh, sw, ph, pw = h, w, 1, 1, 0, 0
            else:
                kh = one(p, "kernel_size", None, int) or one(p, "kernel_h", conv=int)
                kw = one(p, "kernel_size", None, int) or one(p, "kernel_w", conv=int)
                sh = one(p, "stride", None, int) or one(p, "stride_h", 1, int)
                sw = one(p, "stride", None, int) or one(p, "stride_w", 1, int)
                ph = one(p, "pad", None, int) or one(p, "pad_h", 0, int)
                pw = one(p, "pad", None, int) or one(p, "pad_w", 0, int)
            oh, ow = -(-(h + 2 * ph - kh) // sh) + 1, -(-(w + 2 * pw - kw) // sw) + 1  # ceil, as Caffe
            if ph and (oh - 1) * sh >= h + ph:
                oh -= 1
            if pw and (ow - 1) * sw >= w + pw:
                ow -= 1
            top_shapes = [[n, c, oh, ow]] * len(tops)
            if method == "MAX" and len(tops) == 1:
                buffers.append(("max_idx_ (int)", n * c * oh * ow * 4))
            if method == "STOCHASTIC":
                buffers.append(("rand_idx_", n * c * oh * ow * FLOAT))
        elif t == "LRN":
            p = l.get("lrn_param", [{}])[0]
            if one(p, "norm_region", "ACROSS_CHANNELS") != "ACROSS_CHANNELS":
                raise SystemExit(f"caffe_memory: LRN WITHIN_CHANNEL ({name}) is not modelled")
            size = one(p, "local_size", 5, int)
            n, c, h, w = bshapes[0]
            top_shapes = [bshapes[0]]
            buffers.append(("scale_", count(bshapes[0]) * FLOAT))
            temp = max((c + size - 1) * h * w, (c + size - 1) * h * w + 2 * h * w) * FLOAT
        elif t in ("ReLU", "Sigmoid", "TanH", "Dropout"):
            top_shapes = [bshapes[0]]
            if t == "Dropout":
                buffers.append(("rand_vec_ (uint)", count(bshapes[0]) * 4))
        elif t == "Concat":
            p = l.get("concat_param", [{}])[0]
            axis = one(p, "axis", 1, int)
            s = list(bshapes[0])
            s[axis] = sum(b[axis] for b in bshapes)
            top_shapes = [s]
        elif t in ("SoftmaxWithLoss", "Softmax"):
            axis = one(l.get("softmax_param", [{}])[0], "axis", 1, int)
            s = bshapes[0]
            outer, inner = count(s[:axis]), count(s[axis + 1:])
            buffers.append(("softmax sum_multiplier_", s[axis] * FLOAT))
            buffers.append(("softmax scale_", outer * inner * FLOAT))
            if t == "SoftmaxWithLoss":
                buffers.append(("prob_", count(s) * FLOAT))
                top_shapes = [[]] * len(tops)
            else:
                top_shapes = [s]
        elif t == "Accuracy":
            top_shapes = [[]] * len(tops)
        else:
            raise SystemExit(f"caffe_memory: layer type {t} ({name}) is not modelled")
        lr = [float(one(pp, "lr_mult", 1.0)) for pp in l.get("param", [])]
        learnable = any((lr[j] if j < len(lr) else 1.0) != 0 for j in range(len(pshapes)))
        bw = learnable or any(needs_bw.get(version[b], False) for b in bottoms)
        if t == "SoftmaxWithLoss":  # never to the label
            bw = bw or needs_bw.get(version[bottoms[0]], False)
        plan.append(dict(type=t, name=name, bottoms=bottoms, tops=tops, inplace=[tp in bottoms for tp in tops], bw=bw, loss=t.endswith("Loss")))
        for j, tp in enumerate(tops):
            shapes[tp] = top_shapes[j]
            version[tp] = i  # as Caffe's split insertion: an in-place top is a new producer of the name
            needs_bw[version[tp]] = bw
        for j, s in enumerate(pshapes):
            items.append(("parameter data", f"{name} param {j}", count(s) * FLOAT))
            items.append(("parameter diff", f"{name} param {j}", count(s) * FLOAT))
            items.append(("SGD history", f"{name} param {j}", count(s) * FLOAT))
        for what, b in buffers:
            items.append(("layer buffers", f"{name} {what}", b))
        if temp > transient[1]:
            transient = (f"{name} LRN per-call temporaries", temp)

    # Pass 2: top blobs (data + diff), splits, and conv's unconditional bottom diffs.
    # (Shapes never change after a blob's first producer in these nets, so the final table serves.)
    for i, p in enumerate(plan):
        for tp, inplace in zip(p["tops"], p["inplace"]):
            b = count(shapes[tp]) * FLOAT
            if not inplace:
                items.append(("top data", tp, b))
                if p["bw"] or p["loss"]:
                    items.append(("top diff", tp, b))
            n = consumers.get(i, 0)
            if n > 1:  # Split: n tops sharing data, each with its own diff when backward reaches it
                if p["bw"]:
                    items.append(("split diffs", f"{tp} × {n}", n * b))
        if p["type"] in ("Convolution", "Deconvolution") and p["bw"]:
            for bt in p["bottoms"]:
                src = next((q for q in reversed(plan[:i]) if bt in q["tops"]), None)
                if src is not None and not src["bw"]:
                    items.append(("top diff", f"{bt} (conv backward fetches it)", count(shapes[bt]) * FLOAT))
    return items, transient


def report(path):
    items, transient = estimate(parse_prototxt(open(path).read()))
    cats = {}
    for cat, _, b in items:
        cats[cat] = cats.get(cat, 0) + b
    total = sum(cats.values()) + transient[1]
    return cats, transient, total


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cats, transient, total = report(sys.argv[1])
    mib = lambda b: b / 1048576
    print(f"Caffe memory model for {sys.argv[1]} (modelled, not measured; a lower bound, see caffe_memory.py):")
    for cat, b in cats.items():
        print(f"  {cat:24s} {mib(b):9.1f} MiB")
    print(f"  {'largest temporary':24s} {mib(transient[1]):9.1f} MiB  ({transient[0]})")
    print(f"  {'total':24s} {mib(total):9.1f} MiB")


if __name__ == "__main__":
    main()
