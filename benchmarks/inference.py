"""compare.sh inference mode: Crema Net.Forward() against ONNX Runtime and OpenCV DNN on the same nets, weights and input.

For each net and batch: Crema.Inference prepare (seeded random weights saved as a .caffemodel, N(0, 1) input, Crema's
output), peers/caffe_to_onnx.py (the same net and weights rebuilt in PyTorch, output checked, exported to ONNX), then for
each instruction set Crema.Inference run (the three interleaved in one process in blocks of 5 back-to-back runs, median ms of --inf-runs runs, each peer's
output checked against Crema's to 1e-4). Weights live in a temp folder, never in the repository.
"""
import os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NETS = os.path.join(HERE, "nets")
PROJ = os.path.join(HERE, "Crema.Inference")
INFERENCE_NETS = {
    "squeezenet": ("SqueezeNet v1.0", "squeezenet_v1.0_deploy.prototxt"),
    "caffenet": ("CaffeNet", "caffenet_deploy.prototxt"),
    "googlenet": ("GoogLeNet", "googlenet_deploy.prototxt"),
    "resnet50": ("ResNet-50", "resnet50_deploy.prototxt"),
    "vgg16": ("VGG16", "vgg16_deploy.prototxt"),
}
ISAS = {"avx512": {}, "avx2": {"DOTNET_EnableAVX512": "0"}}
TORCH_PYTHON = "/usr/bin/python3"


def run(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return p.returncode, p.stdout


def add_args(ap):
    ap.add_argument("--inference", action="store_true", help="inference mode: Crema vs ONNX Runtime vs OpenCV DNN")
    ap.add_argument("--inf-nets", default=",".join(INFERENCE_NETS), help="comma-separated: " + ",".join(INFERENCE_NETS))
    ap.add_argument("--inf-batches", default="1,10")
    ap.add_argument("--inf-runs", type=int, default=20)
    ap.add_argument("--inf-isas", default="avx512,avx2", help="avx512 (default) and/or avx2 (DOTNET_EnableAVX512=0)")


def main(args):
    rc, out = run(["dotnet", "build", PROJ, "-c", "Release", "-nologo", "-v", "q", "-clp:ErrorsOnly"])
    if rc != 0:
        sys.exit(f"building Crema.Inference failed:\n{out}")
    dll = os.path.join(PROJ, "bin", "Release", "net10.0", "Crema.Inference.dll")
    have_torch = subprocess.run([TORCH_PYTHON, "-c", "import torch"], capture_output=True).returncode == 0
    if not have_torch and os.geteuid() == 0:
        run(["apt-get", "install", "-y", "-q", "python3-torch"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        have_torch = subprocess.run([TORCH_PYTHON, "-c", "import torch"], capture_output=True).returncode == 0
    if not have_torch:
        print("# PyTorch (Debian python3-torch) missing: no ONNX export, ONNX Runtime skipped")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# CPU: {cpu}, {os.cpu_count()} logical CPUs; {os.getloadavg()[0]:.1f} load average; 2 threads each")
    rows = []
    work = tempfile.mkdtemp(prefix="crema_inference_")
    try:
        for key in args.inf_nets.split(","):
            title, prototxt = INFERENCE_NETS[key]
            for batch in map(int, args.inf_batches.split(",")):
                d = os.path.join(work, f"{key}_b{batch}")
                rc, out = run(["dotnet", dll, "prepare", "--model", os.path.join(NETS, prototxt), "--batch", str(batch), "--out", d])
                if rc != 0:
                    sys.exit(f"prepare {key} b{batch} failed:\n{out}")
                checks, torch_ok = [], True
                if have_torch:
                    rc, out = run([TORCH_PYTHON, os.path.join(HERE, "peers", "caffe_to_onnx.py"), d])
                    m = re.search(r"check pytorch: max .*? = (\S+) over .*\((\w+)\)", out)
                    if rc != 0 or not m:
                        print(f"# ONNX export failed for {key} b{batch}:\n{out[-2000:]}")
                    else:
                        checks.append(f"pytorch {m.group(1)}")
                        torch_ok = m.group(2) == "ok"
                for isa in args.inf_isas.split(","):
                    rc, out = run(["dotnet", dll, "run", "--dir", d, "--runs", str(args.inf_runs)], env={**os.environ, **ISAS[isa]})
                    if rc != 0:
                        sys.exit(f"run {key} b{batch} {isa} failed:\n{out[-3000:]}")
                    times = {m.group(1): float(m.group(2)) for m in re.finditer(r"time (\w+): median ([\d.]+) ms", out)}
                    diffs = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(r"check (\w+): max .*? = (\S+) over .*\((\w+)\)", out)}
                    expected = {"crema", "opencv"} | ({"onnxruntime"} if "onnxruntime" in times else set())
                    ok = torch_ok and set(diffs) >= expected and all(v[1] == "ok" for v in diffs.values())
                    row = (title, batch, isa, times.get("crema"), times.get("onnxruntime"), times.get("opencv"), ok,
                           ", ".join(checks + [f"{k} {v[0]}" for k, v in diffs.items() if k != "crema"]))
                    rows.append(row)
                    print_row(row, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def fmt(v):
    return "–" if v is None else f"{v:.1f}"


def print_row(row, flush=False):
    title, batch, isa, crema, ort, cv, ok, checks = row
    peers = [v for v in (ort, cv) if v is not None]
    best = min(peers) if peers else None
    ratio = f"{crema / best:.2f}" if best else "–"
    met = "yes" if best and crema <= best else "no"
    print(f"| {title} | {batch} | {isa} | {fmt(crema)} | {fmt(ort)} | {fmt(cv)} | {ratio} | {met} | "
          f"{'equal to 1e-4' if ok else 'MISMATCH'} ({checks}) |", flush=flush)


def header():
    print("| net | batch | ISA | Crema ms | ONNX Runtime ms | OpenCV DNN ms | Crema / fastest peer | ≤ 1.0 | outputs (max abs diff vs Crema) |")
    print("|---|---|---|---|---|---|---|---|---|")
