using System.Diagnostics;
using Crema.Kernels;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Benchmarks;

/// <summary>
/// `train-step --model M`: one full SGD training iteration (Solver.Step(1): clear diffs, forward, backward, momentum
/// update) of benchmarks/nets/M.prototxt, timed per iteration after warm-up; the twin of bench_torch.py's train step
/// (forward + loss + backward + SGD momentum 0.9, lr 0.01, weight decay 5e-4). Also prints the process's resident memory
/// before the net is built (the runtime's baseline) and its peak (VmHWM) at the end, for the peak-memory goal.
/// </summary>
internal static class TrainStep
{
    private const string Usage = "usage: train-step [--model lenet_b64] [--iterations 20] [--warmup 5]";

    public static int Run(string[] args)
    {
        string model = "lenet_b64";
        int iterations = 20, warmup = 5;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--model": model = value; i++; break;
                case "--iterations": iterations = int.Parse(value); i++; break;
                case "--warmup": warmup = int.Parse(value); i++; break;
                default:
                    Console.Error.WriteLine($"train-step: unknown argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }
        if (iterations < 1 || warmup < 0)
        {
            Console.Error.WriteLine($"train-step: --iterations must be positive and --warmup not negative\n{Usage}");
            return 2;
        }

        double baselineMiB = ProcStatusMiB("VmRSS");
        Log.Quiet = true;
        var param = ProtoFiles.ReadNetText(NetFiles.Path(model));
        var solverParam = new SolverParameter
        {
            NetParam = param, BaseLr = 0.01f, Momentum = 0.9f, WeightDecay = 0.0005f, LrPolicy = "fixed",
            MaxIter = int.MaxValue, Display = 0, SnapshotAfterTrain = false, RandomSeed = 1701,
        };
        using var solver = SolverFactory.Create(solverParam);
        FillInputs(solver);

        for (int i = 0; i < warmup; i++)
        {
            solver.Step(1);
        }
        var ms = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            solver.Step(1);
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        double peakMiB = ProcStatusMiB("VmHWM");
        // Crema's buffers: native blob memory (params, net blobs, solver state) plus the live managed heap (layer scratch).
        long managedLive = GC.GetTotalMemory(forceFullCollection: true);
        long nativeLive = FloatBuffer.LiveBytes;
        double buffersMiB = (nativeLive + managedLive) / 1048576.0;
        var sorted = ms.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        Console.WriteLine($"train-step {model}: median {median:F2} ms, min {sorted[0]:F2} ms, mean {ms.Average():F2} ms over {iterations} " +
            $"iterations after {warmup} warm-up (Gemm threads {Gemm.ThreadCount}, processors {Environment.ProcessorCount}, " +
            $"tiered-compilation {SgemmTable.TieredCompilationSetting()}, loss {solver.SmoothedLoss:G4})");
        Console.WriteLine($"memory {model}: baseline VmRSS {baselineMiB:F1} MiB before building the net, peak VmHWM {peakMiB:F1} MiB " +
            $"after {warmup + iterations} iterations, peak - baseline {peakMiB - baselineMiB:F1} MiB " +
            $"(managed heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:F1} MiB, of it live {managedLive / 1048576.0:F1} MiB)");
        // Where it goes (read after the peak: asking for a never-touched buffer allocates it, as Blob allocates on first use).
        var seen = new HashSet<FloatBuffer>(ReferenceEqualityComparer.Instance);
        double Bytes(IEnumerable<Blob> blobs) => blobs.SelectMany(b => new[] { b.DataBuffer, b.DiffBuffer })
            .Where(seen.Add).Sum(f => f.Length * 4.0) / 1048576;
        double paramMiB = Bytes(solver.Net.LearnableParams);
        double blobMiB = Bytes(solver.Net.Blobs.Values);
        Console.WriteLine($"memory {model} buffers: native blob memory {nativeLive / 1048576.0:F1} MiB + live managed heap " +
            $"{managedLive / 1048576.0:F1} MiB = {buffersMiB:F1} MiB");
        Console.WriteLine($"memory {model} breakdown: parameters data+diff {paramMiB:F1} MiB, net blobs data+diff {blobMiB:F1} MiB, " +
            $"rest (solver state, layer scratch, runtime growth) {peakMiB - baselineMiB - paramMiB - blobMiB:F1} MiB");
        return 0;
    }

    // Input layers leave data at zero; give the net seeded noise and labels 0..9 as bench_torch.py does (randn, randint).
    private static void FillInputs(Solver solver)
    {
        var rng = new Random(1701);
        if (solver.Net.HasBlob("data"))
        {
            var data = solver.Net.Blob("data").Data;
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (rng.NextSingle() * 2) - 1;
            }
        }
        if (solver.Net.HasBlob("label"))
        {
            var label = solver.Net.Blob("label").Data;
            for (int i = 0; i < label.Length; i++)
            {
                label[i] = i % 10;
            }
        }
    }

    /// <summary>A "Key:   1234 kB" line of /proc/self/status in MiB; NaN where there is no /proc (not Linux).</summary>
    internal static double ProcStatusMiB(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return double.NaN;
        }
        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                string[] parts = line[(key.Length + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0]) / 1024.0;
            }
        }
        return double.NaN;
    }
}
