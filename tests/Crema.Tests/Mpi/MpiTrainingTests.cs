using System.Diagnostics;
using System.Globalization;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;
using Crema.Tests.Data;
using Xunit.Abstractions;

namespace Crema.Tests.Mpi;

/// <summary>
/// `crema train` over MPI, with real ranks started by mpiexec: two ranks of batch B train exactly as one process with
/// iter_size 2 (same records, same grouping, same normalisation), a failing rank ends every rank, a missing MPI is one line.
/// </summary>
[Trait("Category", "Mpi")]
public sealed class MpiTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Crema.Cli.dll");

    // LeNet (the bundled example) on 300 MNIST digits, batch 16: 20 two-rank iterations read 640 records, so the
    // stream wraps around the database twice.
    private string WriteSolver(int maxIter, string prefix, string extra = "")
    {
        string db = _dir.Combine("digits");
        if (!Directory.Exists(db))
        {
            MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, db, maxItems: 300);
        }
        string net = File.ReadAllText(RepoPaths.Get("examples", "mnist", "lenet_train_test.prototxt"))
            .Replace("examples/mnist/mnist_train_lmdb", db, StringComparison.Ordinal)
            .Replace("examples/mnist/mnist_test_lmdb", db, StringComparison.Ordinal)
            .Replace("batch_size: 64", "batch_size: 16", StringComparison.Ordinal);
        File.WriteAllText(_dir.Combine("net.prototxt"), net);
        string solver = _dir.Combine(prefix + "_solver.prototxt");
        File.WriteAllText(solver, $"""
            net: "{_dir.Combine("net.prototxt")}"
            base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv" gamma: 0.0001 power: 0.75
            display: 5 max_iter: {maxIter} random_seed: 7
            snapshot_prefix: "{_dir.Combine(prefix)}"
            {extra}
            """);
        return solver;
    }

    private static (int ExitCode, List<string> Stderr) Run(string file, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var kv in env ?? new Dictionary<string, string>())
        {
            start.Environment[kv.Key] = kv.Value;
        }
        var stderr = new List<string>();
        using var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (stderr)
                {
                    stderr.Add(e.Data);
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} still running after {timeout.TotalSeconds} s (hang); stderr:\n{string.Join('\n', stderr.TakeLast(20))}");
        }
        process.WaitForExit();
        lock (stderr)
        {
            return (process.ExitCode, stderr.ToList());
        }
    }

    private static (int, List<string>) MpiExec(int ranks, string solver, TimeSpan timeout, params string[] extra) =>
        Run(MpiFactAttribute.MpiExec!, ["-n", ranks.ToString(CultureInfo.InvariantCulture), "dotnet", Cli, "train", "-solver", solver, .. extra], timeout);

    // One process, in this test host: the reference the ranks must match.
    private static Solver TrainInProcess(string solverFile, int iterSize, string? resume = null)
    {
        var param = ProtoFiles.ReadSolver(solverFile);
        param.IterSize = iterSize;
        param.SnapshotAfterTrain = false;
        param.Display = 0;
        var lines = new List<string>();
        using (Log.Capture(lines))
        {
            var solver = SolverFactory.Create(param);
            solver.Solve(resume);
            return solver;
        }
    }

    private static float MaxDifference(Net net, string caffemodel)
    {
        var saved = ProtoFiles.ReadNetBinary(caffemodel);
        float max = 0;
        int compared = 0;
        foreach (var layer in saved.Layer.Where(l => l.Blobs.Count > 0))
        {
            var blobs = net.Params[layer.Name];
            for (int i = 0; i < blobs.Count; i++)
            {
                var data = blobs[i].Data;
                Assert.Equal(data.Length, layer.Blobs[i].Data.Count);
                for (int k = 0; k < data.Length; k++)
                {
                    max = Math.Max(max, Math.Abs(data[k] - layer.Blobs[i].Data[k]));
                    compared++;
                }
            }
        }
        Assert.True(compared > 400_000, $"compared only {compared} weights");
        return max;
    }

    [MpiFact]
    public void TwoRanks_EqualOneProcessWithIterSize2_After20Iterations()
    {
        string solver = WriteSolver(20, "mpi");
        var (code, stderr) = MpiExec(2, solver, TimeSpan.FromMinutes(3));
        Assert.True(code == 0, string.Join('\n', stderr.TakeLast(20)));
        Assert.Contains(stderr, l => l.Contains("MPI rank 1/2 total:", StringComparison.Ordinal) && l.Contains("allreduce", StringComparison.Ordinal));
        // Rank 0 alone logs and snapshots: one "Iteration 20" display line, one snapshot.
        Assert.Single(stderr, l => l.Contains("] Iteration 15 (", StringComparison.Ordinal));
        Assert.Single(stderr, l => l.Contains("Snapshotting to binary proto file", StringComparison.Ordinal));

        using var iterSize2 = TrainInProcess(solver, iterSize: 2);
        float difference = MaxDifference(iterSize2.Net, _dir.Combine("mpi_iter_20.caffemodel"));
        output.WriteLine($"2 ranks vs one process with iter_size 2 after 20 iterations: max |Δw| = {difference}");
        Assert.True(difference <= 1e-5f, $"2 ranks vs iter_size 2: max |Δw| = {difference}");

        // Not vacuous: one process with iter_size 1 (half the records per step) ends elsewhere.
        using var iterSize1 = TrainInProcess(solver, iterSize: 1);
        float other = MaxDifference(iterSize1.Net, _dir.Combine("mpi_iter_20.caffemodel"));
        output.WriteLine($"2 ranks vs one process with iter_size 1: max |Δw| = {other}");
        Assert.True(other > 1e-3f, $"iter_size 1 should differ from 2 ranks, max |Δw| = {other}");
    }

    [MpiFact]
    [Trait("Category", "Slow")]
    public void TwoRanksWithIterSize2AndClipping_EqualOneProcessWithIterSize4()
    {
        // iter_size composes (2 ranks × iter_size 2 = iter_size 4), and clip_gradients clips when the single process would.
        string solver = WriteSolver(12, "clip", "iter_size: 2 clip_gradients: 2");
        var (code, stderr) = MpiExec(2, solver, TimeSpan.FromMinutes(3));
        Assert.True(code == 0, string.Join('\n', stderr.TakeLast(20)));
        Assert.Contains(stderr, l => l.Contains("Gradient clipping: scaling down gradients", StringComparison.Ordinal));

        using var iterSize4 = TrainInProcess(solver, iterSize: 4);
        float difference = MaxDifference(iterSize4.Net, _dir.Combine("clip_iter_12.caffemodel"));
        output.WriteLine($"2 ranks × iter_size 2 with clipping vs one process with iter_size 4: max |Δw| = {difference}");
        Assert.True(difference <= 1e-5f, $"2 ranks × iter_size 2 vs iter_size 4: max |Δw| = {difference}");
    }

    [MpiFact]
    [Trait("Category", "Slow")]
    public void Resume_TwoRankSnapshot_OnOneRankOrTwo_GivesTheSameWeights()
    {
        // 2 ranks train 10 iterations and snapshot; resuming that snapshot to 20 iterations with 2 ranks and with one
        // process of iter_size 2 must agree (a resumed run restarts the data stream, on every rank, as Caffe does).
        string first = WriteSolver(10, "first");
        var (code, stderr) = MpiExec(2, first, TimeSpan.FromMinutes(3));
        Assert.True(code == 0, string.Join('\n', stderr.TakeLast(20)));
        string state = _dir.Combine("first_iter_10.solverstate");
        string second = WriteSolver(20, "second");
        (code, stderr) = MpiExec(2, second, TimeSpan.FromMinutes(3), "-snapshot", state);
        Assert.True(code == 0, string.Join('\n', stderr.TakeLast(20)));

        using var single = TrainInProcess(second, iterSize: 2, resume: state);
        Assert.Equal(20, single.Iteration);
        float difference = MaxDifference(single.Net, _dir.Combine("second_iter_20.caffemodel"));
        output.WriteLine($"resumed on 2 ranks vs one process with iter_size 2: max |Δw| = {difference}");
        Assert.True(difference <= 1e-5f, $"resumed on 2 ranks vs 1 process: max |Δw| = {difference}");
    }

    [MpiFact]
    public void FailingRank_EndsEveryRank_WithOneErrorLine()
    {
        // MPMD launch: rank 1 alone is given a snapshot that does not exist; rank 0 would wait for it forever.
        string solver = WriteSolver(20, "fail");
        var (code, stderr) = Run(MpiFactAttribute.MpiExec!,
            ["-n", "1", "dotnet", Cli, "train", "-solver", solver, ":", "-n", "1", "dotnet", Cli, "train", "-solver", solver, "-snapshot", _dir.Combine("missing.solverstate")],
            TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, code);
        var errors = stderr.Where(l => l.StartsWith("crema: error:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1, string.Join('\n', stderr.Where(l => !l.StartsWith('I'))));
        Assert.Contains("rank 1/2", errors[0], StringComparison.Ordinal);
        Assert.Contains("missing.solverstate", errors[0], StringComparison.Ordinal);
        Assert.DoesNotContain(stderr, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [MpiFact]
    [Trait("Category", "Slow")]
    public void CtrlC_StopsEveryRank_RankZeroSnapshotsOnce()
    {
        string solver = WriteSolver(1_000_000, "sigint");
        // A process started in the background by a non-interactive shell inherits SIGINT as ignored; perl resets it.
        var start = new ProcessStartInfo("perl") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in (string[])["-e", "$SIG{INT}='DEFAULT'; exec @ARGV or die", MpiFactAttribute.MpiExec!, "-n", "2", "dotnet", Cli, "train", "-solver", solver])
        {
            start.ArgumentList.Add(a);
        }
        var stderr = new List<string>();
        using var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (stderr)
                {
                    stderr.Add(e.Data);
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var watch = Stopwatch.StartNew();
        bool training = false;
        while (!training && watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(100);
            lock (stderr)
            {
                training = stderr.Any(l => l.Contains("] Iteration 10 (", StringComparison.Ordinal));
            }
        }
        Assert.True(training, "training did not reach iteration 10");
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("mpiexec still running 60 s after Ctrl-C");
        }
        process.WaitForExit();
        lock (stderr)
        {
            Assert.Single(stderr, l => l.Contains("Optimization stopped early.", StringComparison.Ordinal));
            Assert.Single(stderr, l => l.Contains("Snapshotting to binary proto file", StringComparison.Ordinal));
        }
        Assert.Single(Directory.GetFiles(_dir.Path, "sigint_iter_*.caffemodel"));
    }

    [MpiFact]
    public void ErrorOnEveryRank_IsReportedOnce()
    {
        string solver = WriteSolver(20, "both");
        var (code, stderr) = MpiExec(2, solver, TimeSpan.FromMinutes(2), "-snapshot", _dir.Combine("missing.solverstate"));
        Assert.NotEqual(0, code);
        var errors = stderr.Where(l => l.StartsWith("crema: error:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1, string.Join('\n', stderr.Where(l => !l.StartsWith('I'))));
        Assert.Contains("rank 0/2", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void MissingMpiLibrary_IsOneLineSayingWhatToInstall()
    {
        string solver = WriteSolver(1, "nompi");
        var (code, stderr) = Run("dotnet", [Cli, "train", "-solver", solver, "-mpi"], TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["CREMA_MPI_LIBRARY"] = _dir.Combine("no-such-libmpich.so.12") });
        Assert.Equal(1, code);
        var error = Assert.Single(stderr, l => l.StartsWith("crema: error:", StringComparison.Ordinal));
        Assert.Contains("install mpich: apt-get install mpich", error, StringComparison.Ordinal);
        Assert.DoesNotContain(stderr, l => l.Contains("   at ", StringComparison.Ordinal));
    }
}
