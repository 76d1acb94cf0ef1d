"""Driver for compare.sh (see there). Prints the per-net medians and the goal tables; --markdown FILE also writes them."""
import argparse, datetime, os, re, shutil, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NETS = os.path.join(HERE, "nets")
PEERS = os.path.join(HERE, "peers")
BENCH_PROJ = os.path.join(HERE, "Crema.Benchmarks")
sys.path.insert(0, HERE)
import caffe_memory  # noqa: E402  (next to this file)
import inference  # noqa: E402  (compare.sh --inference)

# ../shared/reference/PERF.md (quiet machine, 2026-11-27): Caffe + OpenBLAS AVX-512, best of 1/2 threads, ms (forward, backward, both).
CAFFE = {
    "lenet_b64": (5.4, 7.4, 12.8),
    "cifar10_quick_b100": (50.0, 74.6, 125.0),
    "caffenet_b10": (140.0, 214.0, 355.0),
    "googlenet_b10": (464.0, 516.0, 981.0),
}
# PyTorch 1.13, 2 threads: forward / training step, ms.
TORCH = {"lenet_b64": (8.5, 17.0), "cifar10_quick_b100": (98.0, 55.0), "caffenet_b10": (265.0, 1726.0)}
# OpenBLAS AVX-512 2-thread NN GFLOP/s from PERF.md, for the machine-speed factor.
OPENBLAS_REF = {(96, 3025, 363): 303.0, (256, 729, 2400): 312.0, (384, 169, 2304): 238.0, (1024, 1024, 1024): 346.0}
# SGEMM shape keys (sgemm_bench.c / sgemm-table), in table order; fc6 is memory-bound (reported, not a goal line).
SGEMM_SHAPES = ["lenet_conv1", "lenet_conv2", "lenet_ip1", "alex_conv1", "alex_conv2", "alex_conv3", "alex_fc6", "sq512", "sq1024", "sq2048"]
MEMORY_BOUND = {(4096, 10, 9216)}
SQUARES = [(512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048)]
SGEMM_GOAL, SPEEDUP_GOAL = 0.9, 1.8
TRAIN_NETS = ["lenet_b64", "cifar10_quick_b100", "caffenet_b10"]
MEMORY_NET = "caffenet_b10"
# Full JIT optimisation from the first call for the command modes (as the crema CLI's TieredCompilation=false).
JIT_ENV = {"DOTNET_TieredCompilation": "0"}


def run(cmd, env=None, timeout=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout


def crema_time(net, iters, repeats):
    """Medians over repeats of crema time's averages: forward, backward, forward-backward (ms), and per-layer lines."""
    res = {"fwd": [], "bwd": [], "both": []}
    layers = {}
    for _ in range(repeats):
        rc, out = run([os.path.join(ROOT, "crema"), "time", "-model", os.path.join(NETS, net + ".prototxt"), "-iterations", str(iters)])
        if rc != 0:
            sys.exit(f"crema time failed for {net}:\n{out}")
        for key, label in (("fwd", "Forward pass"), ("bwd", "Backward pass"), ("both", "Forward-Backward")):
            res[key].append(float(re.search(rf"Average {label}: ([\d.]+) ms", out).group(1)))
        for m in re.finditer(r"\]\s+(\S+)\s+(forward|backward): ([\d.eE+-]+) ms", out):
            layers.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)))
    return {k: statistics.median(v) for k, v in res.items()}, {k: statistics.median(v) for k, v in layers.items()}


def try_install(packages):
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    print(f"# apt-get install -y {' '.join(packages)}", flush=True)
    rc, _ = run(["apt-get", "install", "-y", "-q", *packages], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return rc == 0


# ---------------------------------------------------------------------------------------------------- Crema.Benchmarks

def bench_dll():
    """Builds benchmarks/Crema.Benchmarks (Release) once and returns its dll, run directly so each mode starts fast."""
    rc, out = run(["dotnet", "build", BENCH_PROJ, "-c", "Release", "-nologo", "-v", "q", "-clp:ErrorsOnly"])
    if rc != 0:
        sys.exit(f"building Crema.Benchmarks failed:\n{out}")
    return os.path.join(BENCH_PROJ, "bin", "Release", "net10.0", "Crema.Benchmarks.dll")


def crema_mode(dll, *args):
    rc, out = run(["dotnet", dll, *map(str, args)], env={**os.environ, **JIT_ENV})
    if rc != 0:
        sys.exit(f"Crema.Benchmarks {' '.join(map(str, args))} failed:\n{out}")
    return out


def train_step(dll, net, iters, warmup):
    """One train-step process: median ms per SGD iteration, and its memory line (baseline, peak MiB) and breakdown."""
    out = crema_mode(dll, "train-step", "--model", net, "--iterations", iters, "--warmup", warmup)
    t = re.search(r"train-step \S+: median ([\d.]+) ms", out)
    m = re.search(r"baseline VmRSS ([\d.]+) MiB .* peak VmHWM ([\d.]+) MiB", out)
    u = re.search(r"buffers: .* = ([\d.]+) MiB", out)
    b = re.search(r"breakdown: (.*)", out)
    if not t or not m or not u:
        sys.exit(f"train-step {net}: unexpected output:\n{out}")
    return float(t.group(1)), (float(m.group(1)), float(m.group(2)), float(u.group(1))), b.group(1) if b else ""


# ---------------------------------------------------------------------------------------------------- SGEMM

def parse_sgemm(out):
    """sgemm_bench / sgemm-table output -> {(M, N, K, case): median GFLOP/s}."""
    res = {}
    for line in out.splitlines():
        m = re.match(r"^(.*?)\s+(NN|NT|TN|TT)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if m:
            res[(int(m.group(3)), int(m.group(4)), int(m.group(5)), m.group(2))] = float(m.group(6))
    return res


def build_openblas(install):
    """Path of the built OpenBLAS benchmark (peers/sgemm_bench.c), or None when OpenBLAS or gcc is missing."""
    have = lambda: os.path.exists("/usr/include/x86_64-linux-gnu/cblas.h") or os.path.exists("/usr/include/cblas.h")
    if not have() and install:
        try_install(["libopenblas-dev"])
    if not have() or not shutil.which("gcc"):
        print("# OpenBLAS: not installed (apt-get install -y libopenblas-dev): skipped")
        return None
    exe = "/tmp/crema_sgemm_bench"
    rc, out = run(["gcc", "-O2", os.path.join(PEERS, "sgemm_bench.c"), "-o", exe, "-lopenblas"])
    if rc != 0:
        print("# OpenBLAS: build failed, skipped\n" + out)
        return None
    return exe


def openblas_run(exe, threads, cases, shapes):
    # Unset the machine's OPENBLAS_CORETYPE=Haswell so OpenBLAS picks its AVX-512 kernel (PERF.md's AVX-512 column).
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    rc, out = run([exe, str(threads), cases, shapes], env=env)
    if rc != 0:
        sys.exit(f"sgemm_bench failed:\n{out}")
    return out


def sgemm_compare(dll, exe, threads_list, cases, shapes, repeats, verbose):
    """Crema and OpenBLAS interleaved per thread count (Crema, OpenBLAS, Crema, ... so drift hits both):
    {(M, N, K, case, threads): (crema GF/s, openblas GF/s or None)}, medians over repeats."""
    crema, blas = {}, {}
    for t in threads_list:
        for r in range(repeats):
            out = crema_mode(dll, "sgemm-table", "--threads", t, "--cases", cases, "--shapes", shapes)
            print(f"# sgemm-table, {t} thread(s), repeat {r + 1}: {out.splitlines()[0]}", flush=True)
            if verbose:
                print(out)
            for key, g in parse_sgemm(out).items():
                crema.setdefault(key + (t,), []).append(g)
            if exe:
                out = openblas_run(exe, t, cases, shapes)
                print(f"# sgemm_bench, {t} thread(s), repeat {r + 1}: {out.splitlines()[0]}", flush=True)
                if verbose:
                    print(out)
                for key, g in parse_sgemm(out).items():
                    blas.setdefault(key + (t,), []).append(g)
    return {k: (statistics.median(v), statistics.median(blas[k]) if k in blas else None) for k, v in crema.items()}


def sgemm_tables(res, names):
    """Markdown lines: per shape × case × threads ratios (goal ≥ 0.9), then the 1 → 2 thread speed-ups (goal ≥ 1.8)."""
    head = ("shape", "M,N,K", "case", "threads", "Crema GF/s", "OpenBLAS GF/s", "ratio", "target", "met")
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)]
    order = {s: i for i, s in enumerate(names)}
    met, total, worst = 0, 0, None
    for key in sorted(res, key=lambda k: (order.get(k[:3], 99), k[3], k[4])):
        (m, n, k, case, t), (mine, peer) = key, res[key]
        bound = (m, n, k) in MEMORY_BOUND
        name = names.get((m, n, k), "") + (" (memory-bound)" if bound else "")
        if peer is None:
            lines.append(f"| {name} | {m},{n},{k} | {case} | {t} | {mine:.1f} | – | – | ≥ {SGEMM_GOAL} | – |")
            continue
        r = mine / peer
        if bound:
            verdict = "informative"
        else:
            total += 1
            met += r >= SGEMM_GOAL
            verdict = "yes" if r >= SGEMM_GOAL else "no"
            if worst is None or r < worst[0]:
                worst = (r, f"{m},{n},{k} {case} {t}T")
        lines.append(f"| {name} | {m},{n},{k} | {case} | {t} | {mine:.1f} | {peer:.1f} | {r:.2f} | ≥ {SGEMM_GOAL} | {verdict} |")
    summary = f"SGEMM vs OpenBLAS: {met} of {total} goal lines met" + (f", lowest ratio {worst[0]:.2f} ({worst[1]})" if worst else "")

    head2 = ("square", "case", "Crema 1T → 2T", "OpenBLAS 1T → 2T", "target (Crema)", "met")
    lines2 = [f"| {' | '.join(head2)} |", "|" + "---|" * len(head2)]
    for (m, n, k) in SQUARES:
        for case in ("NN", "NT", "TN", "TT"):
            one_t, two_t = res.get((m, n, k, case, 1)), res.get((m, n, k, case, 2))
            if not one_t or not two_t:
                continue
            cs = two_t[0] / one_t[0]
            bs = f"{two_t[1] / one_t[1]:.2f}×" if one_t[1] and two_t[1] else "–"
            lines2.append(f"| {m}² | {case} | {cs:.2f}× | {bs} | ≥ {SPEEDUP_GOAL}× | {'yes' if cs >= SPEEDUP_GOAL else 'no'} |")
    return lines, summary, (lines2 if len(lines2) > 2 else [])


def sgemm_names():
    """(M, N, K) -> display name, from the sgemm-table source so the two never disagree."""
    src = open(os.path.join(BENCH_PROJ, "SgemmTable.cs")).read()
    return {(int(m), int(n), int(k)): name for _, name, m, n, k in
            re.findall(r'\("(\w+)", "([^"]+)", (\d+), (\d+), (\d+)\)', src)}


# ---------------------------------------------------------------------------------------------------- PyTorch

def torch_bench(install, nets):
    py = "/usr/bin/python3"
    ok = lambda: run([py, "-c", "import torch"])[0] == 0
    if not ok() and install:
        try_install(["python3-torch"])
    if not ok():
        print("# PyTorch: not installed (apt-get install -y python3-torch): skipped, PERF.md figures used")
        return {}
    names = {"lenet_b64": "lenet", "cifar10_quick_b100": "cifar", "caffenet_b10": "alex10"}
    sel = ",".join(names[n] for n in nets if n in names)
    if not sel:
        return {}
    rc, out = run([py, os.path.join(PEERS, "bench_torch.py"), "--threads", "2", "--nets", sel], env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    print(out)
    back = {"LeNet": "lenet_b64", "CIFAR10-quick": "cifar10_quick_b100", "CaffeNet": "caffenet_b10"}
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in back and len(parts) >= 5:
            result[back[parts[0]]] = (float(parts[2]), float(parts[4]))
    return result


# ---------------------------------------------------------------------------------------------------- main

def dry_run():
    """CI smoke: everything builds and runs once with tiny settings; the numbers mean nothing."""
    t, _ = crema_time("lenet_b64", 1, 1)
    print(f"crema time lenet_b64 (1 iteration): forward {t['fwd']:.1f} ms, forward-backward {t['both']:.1f} ms")
    dll = bench_dll()
    out = crema_mode(dll, "sgemm-table", "--threads", 1, "--cases", "NN,TT", "--shapes", "lenet_conv1", "--min-ms", 1, "--samples", 3)
    print(out.rstrip())
    if len(parse_sgemm(out)) != 2:
        sys.exit("sgemm-table: output not understood")
    ms, (base, peak, _), breakdown = train_step(dll, "lenet_b64", 2, 1)
    print(f"train-step lenet_b64 (2 iterations): median {ms:.1f} ms; VmRSS baseline {base:.1f} MiB, VmHWM {peak:.1f} MiB; {breakdown}")
    cats, transient, total = caffe_memory.report(os.path.join(NETS, MEMORY_NET + ".prototxt"))
    print(f"Caffe {MEMORY_NET} memory model (modelled, not measured): {total / 1048576:.1f} MiB")
    exe = build_openblas(False)
    if exe:  # optional here: CI machines need not have OpenBLAS
        out = openblas_run(exe, 1, "NN", "lenet_conv1")
        print(out.rstrip())
        if len(parse_sgemm(out)) != 1:
            sys.exit("sgemm_bench: output not understood")
    rc, out = run(["dotnet", "run", "-c", "Release", "--project", BENCH_PROJ, "--", "--filter", "*Im2ColBenchmarks*", "*PoolingBenchmarks*",
                   "--job", "Dry", "--inProcess", "--artifacts", "/tmp/crema-bdn-dry"])
    print("\n".join(l for l in out.splitlines() if l.startswith("|") or "error" in l.lower()))
    sys.exit(rc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--iterations", type=int, default=20, help="crema time iterations (GoogLeNet: a fifth)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of crema time and train-step (medians)")
    ap.add_argument("--nets", default="lenet_b64,cifar10_quick_b100,caffenet_b10")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--no-peers", action="store_true", help="skip OpenBLAS and PyTorch (Crema's SGEMM table still runs)")
    ap.add_argument("--no-sgemm", action="store_true")
    ap.add_argument("--sgemm-cases", default="all", help="NN,NT,TN,TT or all")
    ap.add_argument("--sgemm-shapes", default="all", help=f"comma list of {','.join(SGEMM_SHAPES)} or all")
    ap.add_argument("--sgemm-threads", default="1,2")
    ap.add_argument("--sgemm-repeats", type=int, default=1, help="interleaved repeats of both SGEMM tables (medians)")
    ap.add_argument("--no-train", action="store_true", help="skip the train-step timings")
    ap.add_argument("--train-iterations", type=int, default=20)
    ap.add_argument("--no-memory", action="store_true", help="skip the CaffeNet peak-memory run")
    ap.add_argument("--verbose", action="store_true", help="print the raw SGEMM tables too")
    ap.add_argument("--markdown", help="also write the tables to this file")
    inference.add_args(ap)
    a = ap.parse_args()
    load = open("/proc/loadavg").read().split()[:3]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"# {stamp}, load average {' '.join(load)}, {os.cpu_count()} CPUs", flush=True)
    if a.dry_run:
        dry_run()
    if a.inference:
        inference.header()
        inference.main(a)
        return

    nets = [n for n in a.nets.split(",") if n]
    crema = {}
    for net in nets:
        t, layers = crema_time(net, a.iterations if "googlenet" not in net else max(2, a.iterations // 5), a.repeats)
        crema[net] = t
        print(f"crema {net}: forward {t['fwd']:.2f} ms, backward {t['bwd']:.2f} ms, forward-backward {t['both']:.2f} ms (median of {a.repeats})", flush=True)

    dll = bench_dll() if not (a.no_train and a.no_memory and a.no_sgemm) else None
    train = {}
    if not a.no_train:
        for net in (n for n in TRAIN_NETS if n in nets):
            runs = [train_step(dll, net, a.train_iterations, 5)[0] for _ in range(a.repeats)]
            train[net] = statistics.median(runs)
            print(f"crema train-step {net}: {train[net]:.2f} ms per SGD iteration (median of {a.repeats} runs of {a.train_iterations})", flush=True)
    memory = None
    if not a.no_memory:
        _, (base, peak, buffers), breakdown = train_step(dll, MEMORY_NET, 5, 0)
        cats, transient, model = caffe_memory.report(os.path.join(NETS, MEMORY_NET + ".prototxt"))
        memory = (base, peak, buffers, model / 1048576, cats, transient)
        print(f"crema train-step {MEMORY_NET} × 5: VmRSS baseline {base:.1f} MiB, VmHWM {peak:.1f} MiB; {breakdown}", flush=True)

    sgemm, names = {}, sgemm_names()
    exe = None if a.no_peers or a.no_sgemm else build_openblas(not a.no_install)
    if not a.no_sgemm:
        threads = [int(t) for t in a.sgemm_threads.split(",")]
        sgemm = sgemm_compare(dll, exe, threads, a.sgemm_cases, a.sgemm_shapes, a.sgemm_repeats, a.verbose)
    speed = [sgemm[s + ("NN", 2)][1] / ref for s, ref in OPENBLAS_REF.items() if sgemm.get(s + ("NN", 2), (0, None))[1]]
    factor = statistics.median(speed) if speed else 1.0
    torch = {} if a.no_peers else torch_bench(not a.no_install, nets)
    tsrc = "measured now" if torch else "PERF.md"

    rows = []
    def goal(what, mine, peer, target, peer_name, unscaled=None, informative=False):
        r = mine / peer
        raw = f"{mine / unscaled:.2f}" if unscaled else "–"
        met = "informative" if informative else ("yes" if r <= target else "no")
        rows.append((what, f"{mine:.1f}", f"{peer:.1f} ({peer_name})", f"{r:.2f}", raw, "–" if informative else f"≤ {target}", met))
    caffe_goal = lambda what, net, i, target: goal(what, crema[net][("fwd", "bwd", "both")[i]], CAFFE[net][i] / factor, target, "Caffe", CAFFE[net][i])
    torch_train = lambda net: torch.get(net, TORCH[net])[1]
    if "lenet_b64" in crema:
        caffe_goal("LeNet b64 forward+backward", "lenet_b64", 2, 0.5)
    if "lenet_b64" in train:
        goal("LeNet b64 training iteration (with SGD update)", train["lenet_b64"], torch_train("lenet_b64"), 0.7,
             f"PyTorch train step, {tsrc}", TORCH["lenet_b64"][1])
    if "cifar10_quick_b100" in crema:
        goal("CIFAR-10 quick b100 forward+backward", crema["cifar10_quick_b100"]["both"], torch_train("cifar10_quick_b100"), 1.0,
             f"PyTorch train step, {tsrc}", TORCH["cifar10_quick_b100"][1])
        caffe_goal("CIFAR-10 quick b100 forward+backward", "cifar10_quick_b100", 2, 1.0)
    if "cifar10_quick_b100" in train:
        goal("CIFAR-10 quick b100 training iteration", train["cifar10_quick_b100"], torch_train("cifar10_quick_b100"), 1.0,
             f"PyTorch train step, {tsrc}", TORCH["cifar10_quick_b100"][1], informative=True)
    if "caffenet_b10" in crema:
        caffe_goal("CaffeNet b10 forward", "caffenet_b10", 0, 0.8)
        caffe_goal("CaffeNet b10 forward+backward", "caffenet_b10", 2, 0.8)
    if "caffenet_b10" in train:
        goal("CaffeNet b10 training iteration", train["caffenet_b10"], torch_train("caffenet_b10"), 1.0,
             f"PyTorch train step, {tsrc}", TORCH["caffenet_b10"][1], informative=True)
    if "googlenet_b10" in crema:
        caffe_goal("GoogLeNet b10 forward+backward", "googlenet_b10", 2, 0.8)
    head = ("goal", "Crema ms", "peer ms (this run)", "ratio", "ratio vs PERF.md as printed", "target", "met")
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)] + [f"| {' | '.join(r)} |" for r in rows]
    note = (f"Caffe figures: PERF.md ÷ {factor:.2f} (OpenBLAS SGEMM NN 2 threads now vs then, median of {len(speed)} shapes)" if speed
            else "Caffe figures: PERF.md as is (OpenBLAS not measured in this run)")
    text = [f"{stamp}, load average {' '.join(load)}", "", *lines, "", note]

    if memory:
        base, peak, buffers, model, cats, transient = memory
        mine = peak - base
        r = mine / model
        rb = buffers / model
        text += ["", f"Peak memory, {MEMORY_NET} SGD training (5 iterations, one process):", "",
                 "| what | MiB |", "|---|---|",
                 f"| Crema peak RSS (VmHWM), measured | {peak:.1f} |",
                 f"| Crema baseline (VmRSS before building the net), measured | {base:.1f} |",
                 f"| Crema peak − baseline | {mine:.1f} |",
                 f"| Crema buffers at the end: native blob memory + live managed heap, measured | {buffers:.1f} |",
                 f"| Caffe buffers touched (caffe_memory.py: **modelled, not measured**; a lower bound on Caffe's RSS) | {model:.1f} |",
                 "", f"Crema buffers / Caffe model = **{rb:.2f}** (like for like: both count the memory the nets and solver hold; "
                 f"target ≤ 1.0, met: {'yes' if rb <= 1.0 else 'no'}). "
                 f"Crema (peak − baseline) / Caffe model = **{r:.2f}** (also counts the .NET runtime's own growth — JIT code, "
                 f"protobuf reflection, GC bookkeeping — which the model leaves out on Caffe's side; met: {'yes' if r <= 1.0 else 'no'}; "
                 "modelled, not measured: the model leaves out Caffe's libraries, OpenBLAS buffers and malloc overhead, so a "
                 "ratio ≤ 1 here is conservative). Model by category, MiB: "
                 + ", ".join(f"{c} {b / 1048576:.1f}" for c, b in cats.items()) + f", largest temporary {transient[1] / 1048576:.1f}."]
    if sgemm:
        t1, summary, t2 = sgemm_tables(sgemm, names)
        text += ["", "SGEMM, Crema Gemm.Sgemm vs OpenBLAS cblas_sgemm (AVX-512 kernel), row-major, median GFLOP/s = 2·M·N·K / t, "
                 "same shapes, cases and method, interleaved per thread count:", "", *t1, "", summary]
        if t2:
            text += ["", "1 → 2 thread speed-up on the squares (median GFLOP/s with 2 threads ÷ with 1):", "", *t2]
    print("\n".join(text))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
