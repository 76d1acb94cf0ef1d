using BenchmarkDotNet.Attributes;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Benchmarks;

/// <summary>
/// Whole reference nets from benchmarks/nets (deploy nets with Input data/label and a SoftmaxWithLoss): forward,
/// forward + backward (what `caffe time` measures), and one full SGD training iteration (forward, backward, update).
/// Compare with `./crema time` and the Caffe / PyTorch figures in RESULTS.md.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes")]
public class NetBenchmarks
{
    private Net _net = null!;
    private Solver _solver = null!;

    [Params("lenet_b64", "cifar10_quick_b100", "caffenet_b10")]
    public string Model { get; set; } = "lenet_b64";

    [GlobalSetup]
    public void Setup()
    {
        var param = ProtoFiles.ReadNetText(NetFiles.Path(Model));
        _net = new Net(param, Phase.Train);
        var solverParam = new SolverParameter
        {
            NetParam = param, BaseLr = 0.001f, Momentum = 0.9f, WeightDecay = 0.0005f, LrPolicy = "fixed",
            MaxIter = int.MaxValue, Display = 0, SnapshotAfterTrain = false, RandomSeed = 1701,
        };
        _solver = SolverFactory.Create(solverParam);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _solver.Dispose();
        _net.Dispose();
    }

    [Benchmark(Description = "forward")]
    public float Forward() => _net.Forward();

    [Benchmark(Description = "forward+backward")]
    public float ForwardBackward() => _net.ForwardBackward();

    [Benchmark(Description = "SGD iteration")]
    public void TrainIteration() => _solver.Step(1);
}

internal static class NetFiles
{
    // benchmarks/nets, found from the benchmark binary upwards (BenchmarkDotNet runs it from its own bin folder); CREMA_BENCH_NETS overrides.
    public static string Path(string model)
    {
        string? dir = Environment.GetEnvironmentVariable("CREMA_BENCH_NETS");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); dir is null && d is not null; d = d.Parent)
        {
            string candidate = System.IO.Path.Combine(d.FullName, "benchmarks", "nets");
            if (Directory.Exists(candidate))
            {
                dir = candidate;
            }
        }
        return System.IO.Path.Combine(dir ?? throw new DirectoryNotFoundException("benchmarks/nets not found; set CREMA_BENCH_NETS"), model + ".prototxt");
    }
}
