"""Driver for compare.sh (see there). Prints the per-net medians and the goal table; --markdown FILE also writes it."""
import argparse, datetime, os, re, shutil, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NETS = os.path.join(HERE, "nets")
PEERS = os.path.join(HERE, "peers")

# ../shared/reference/PERF.md (quiet machine, 2026-11-27): Caffe + OpenBLAS AVX-512, best of 1/2 threads, ms (forward, backward, both).
CAFFE = {
    "lenet_b64": (5.4, 7.4, 12.8),
    "cifar10_quick_b100": (50.0, 74.6, 125.0),
    "caffenet_b10": (140.0, 214.0, 355.0),
    "googlenet_b10": (464.0, 516.0, 981.0),
}
# PyTorch 1.13, 2 threads: forward / training step, ms.
TORCH = {"lenet_b64": (8.5, 17.0), "cifar10_quick_b100": (98.0, 55.0), "caffenet_b10": (265.0, 1726.0)}
# OpenBLAS AVX-512 2-thread GFLOP/s from PERF.md, for the machine-speed factor.
OPENBLAS_REF = {(96, 3025, 363): 303.0, (256, 729, 2400): 312.0, (384, 169, 2304): 238.0, (1024, 1024, 1024): 346.0}


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


def openblas(install):
    """OpenBLAS SGEMM GFLOP/s (AVX-512 kernel, 2 threads) by (M, N, K), or {} when it cannot be built."""
    have = lambda: os.path.exists("/usr/include/x86_64-linux-gnu/cblas.h") or os.path.exists("/usr/include/cblas.h")
    if not have() and install:
        try_install(["libopenblas-dev"])
    if not have() or not shutil.which("gcc"):
        print("# OpenBLAS: not installed (apt-get install -y libopenblas-dev): skipped")
        return {}
    exe = "/tmp/crema_sgemm_bench"
    rc, out = run(["gcc", "-O2", os.path.join(PEERS, "sgemm_bench.c"), "-o", exe, "-lopenblas"])
    if rc != 0:
        print("# OpenBLAS: build failed, skipped\n" + out)
        return {}
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    rc, out = run([exe, "2"], env=env)
    print(out)
    result = {}
    for line in out.splitlines():
        m = re.match(r".*?\s(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if m:
            result[(int(m.group(1)), int(m.group(2)), int(m.group(3)))] = float(m.group(4))
    return result


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
    rc, out = run([py, os.path.join(PEERS, "bench_torch.py"), "--threads", "2", "--nets", sel], env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    print(out)
    back = {"LeNet": "lenet_b64", "CIFAR10-quick": "cifar10_quick_b100", "CaffeNet": "caffenet_b10"}
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in back and len(parts) >= 5:
            result[back[parts[0]]] = (float(parts[2]), float(parts[4]))
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nets", default="lenet_b64,cifar10_quick_b100,caffenet_b10")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--markdown", help="also write the table to this file")
    a = ap.parse_args()
    load = open("/proc/loadavg").read().split()[:3]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"# {stamp}, load average {' '.join(load)}, {os.cpu_count()} CPUs", flush=True)

    if a.dry_run:
        # CI smoke: everything builds and runs once; the numbers mean nothing.
        t, _ = crema_time("lenet_b64", 1, 1)
        print(f"crema time lenet_b64 (1 iteration): forward {t['fwd']:.1f} ms, forward-backward {t['both']:.1f} ms")
        proj = os.path.join(HERE, "Crema.Benchmarks")
        rc, out = run(["dotnet", "run", "-c", "Release", "--project", proj, "--", "--filter", "*Im2ColBenchmarks*", "*PoolingBenchmarks*",
                       "--job", "Dry", "--inProcess", "--artifacts", "/tmp/crema-bdn-dry"])
        print("\n".join(l for l in out.splitlines() if l.startswith("|") or "error" in l.lower()))
        sys.exit(rc)

    nets = a.nets.split(",")
    crema = {}
    for net in nets:
        t, layers = crema_time(net, a.iterations if "googlenet" not in net else max(2, a.iterations // 5), a.repeats)
        crema[net] = t
        print(f"crema {net}: forward {t['fwd']:.2f} ms, backward {t['bwd']:.2f} ms, forward-backward {t['both']:.2f} ms (median of {a.repeats})", flush=True)
    blas = {} if a.no_peers else openblas(not a.no_install)
    speed = [blas[s] / ref for s, ref in OPENBLAS_REF.items() if s in blas]
    factor = statistics.median(speed) if speed else 1.0
    torch = {} if a.no_peers else torch_bench(not a.no_install, nets)
    tsrc = "measured now" if torch else "PERF.md"

    rows = []
    def goal(what, mine, peer, target, peer_name):
        r = mine / peer
        rows.append((what, f"{mine:.1f}", f"{peer:.1f} ({peer_name})", f"{r:.2f}", f"≤ {target}", "yes" if r <= target else "no"))
    caffe = lambda net, i: CAFFE[net][i] / factor
    if "lenet_b64" in crema:
        goal("LeNet b64 forward+backward", crema["lenet_b64"]["both"], caffe("lenet_b64", 2), 0.5, "Caffe")
    if "cifar10_quick_b100" in crema:
        peer = torch.get("cifar10_quick_b100", TORCH["cifar10_quick_b100"])[1]
        goal("CIFAR-10 quick b100 forward+backward", crema["cifar10_quick_b100"]["both"], peer, 1.0, f"PyTorch train step, {tsrc}")
        goal("CIFAR-10 quick b100 forward+backward", crema["cifar10_quick_b100"]["both"], caffe("cifar10_quick_b100", 2), 1.0, "Caffe")
    if "caffenet_b10" in crema:
        goal("CaffeNet b10 forward", crema["caffenet_b10"]["fwd"], caffe("caffenet_b10", 0), 0.8, "Caffe")
        goal("CaffeNet b10 forward+backward", crema["caffenet_b10"]["both"], caffe("caffenet_b10", 2), 0.8, "Caffe")
    if "googlenet_b10" in crema:
        goal("GoogLeNet b10 forward+backward", crema["googlenet_b10"]["both"], caffe("googlenet_b10", 2), 1.0, "Caffe")
    head = ("goal", "Crema ms", "peer ms", "ratio", "target", "met")
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)] + [f"| {' | '.join(r)} |" for r in rows]
    note = (f"Caffe figures: PERF.md ÷ {factor:.2f} (OpenBLAS SGEMM now vs then, median of {len(speed)} shapes)" if speed
            else "Caffe figures: PERF.md as is (OpenBLAS not measured in this run)")
    text = "\n".join([f"{stamp}, load average {' '.join(load)}", "", *lines, "", note])
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
