using System.Globalization;
using System.Text.RegularExpressions;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;

namespace Crema.Tests.Solvers;

/// <summary>
/// The solver's log lines against Caffe's formats (solver.cpp): display with average_loss smoothing, "Test loss:",
/// test_initialization, several test nets picked by test_state stages, and outside requests (SIGINT/SIGHUP actions).
/// </summary>
public sealed partial class SolverLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // DummyData with gaussian fillers refills every forward, so each iteration's loss differs.
    private const string NetText = """
        net_param {
          layer { name: "data" type: "DummyData" top: "x" top: "t"
            dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 } data_filler { type: "gaussian" std: 1 } data_filler { type: "gaussian" std: 1 } } }
          layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 } } }
          layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
          layer { name: "loss_b" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss_b" loss_weight: 2 include { phase: TEST stage: "b" } }
        }
        """;

    private SolverParameter MakeSolver(string extra)
    {
        string text = NetText + $$"""

            base_lr: 0.1 lr_policy: "fixed" momentum: 0.9 random_seed: 1701 snapshot_after_train: false
            snapshot_prefix: "{{_dir}}/snap"
            """ + "\n" + extra;
        return PrototxtParser.Parse<SolverParameter>(text, "solver.prototxt");
    }

    private static List<string> Run(SolverParameter param, Action<Solver>? setup = null)
    {
        var lines = new List<string>();
        using (Log.Capture(lines))
        {
            using var solver = SolverFactory.Create(param);
            setup?.Invoke(solver);
            solver.Solve();
        }
        // drop glog's "I0101 00:00:00.000000 123 solver.cs:45] " prefix
        return lines.Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..]).ToList();
    }

    private static double Number(string line, string after)
    {
        int start = line.IndexOf(after, StringComparison.Ordinal) + after.Length;
        int end = start;
        while (end < line.Length && (char.IsAsciiDigit(line[end]) || line[end] is '.' or '-' or '+' or 'e'))
        {
            end++;
        }
        return double.Parse(line[start..end], CultureInfo.InvariantCulture);
    }

    [Fact]
    public void AverageLoss_DisplaysTheMeanOfTheLastNIterationLosses()
    {
        var losses = new List<float>();
        var log = Run(MakeSolver("average_loss: 3 display: 1 max_iter: 6"), s => s.IterationCompleted += (_, loss) => losses.Add(loss));
        var display = log.Where(l => DisplayLine().IsMatch(l)).ToList();
        Assert.Equal(6, display.Count);
        for (int i = 0; i < 6; i++)
        {
            Assert.StartsWith($"Iteration {i} (", display[i], StringComparison.Ordinal);
            Assert.Contains("s/1 iters), loss = ", display[i], StringComparison.Ordinal);
            double expected = losses.Skip(Math.Max(0, i - 2)).Take(Math.Min(i + 1, 3)).Average(v => (double)v);
            Assert.Equal(expected, Number(display[i], "loss = "), 4);
        }
        // the first display of a run equals that iteration's own loss ("Train net output" shows it unsmoothed)
        int first = log.FindIndex(l => l.StartsWith("Iteration 0 (", StringComparison.Ordinal));
        Assert.Matches(@"^    Train net output #0: loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)$", log[first + 1]);
        Assert.Equal(losses[0], Number(log[first + 1], "loss = "), 4);
        Assert.Equal("Iteration 0, lr = 0.1", log[first + 2]);
        // Solve's closing display: one more forward, smoothed with the last losses of the run
        Assert.Matches(@"^Iteration 6, loss = [\d.e+-]+$", log[^2]);
        Assert.Equal("Optimization Done.", log[^1]);
    }

    [Fact]
    public void TestComputeLoss_AndTestInitializationFalse_AndTwoTestNetsByStage()
    {
        var param = MakeSolver("""
            test_iter: 2 test_iter: 3 test_state { stage: "a" } test_state { stage: "b" }
            test_interval: 2 test_initialization: false test_compute_loss: true display: 2 max_iter: 4
            """);
        var log = Run(param);
        Assert.DoesNotContain("Iteration 0, Testing net (#0)", log);
        var tests = log.Where(l => l.Contains("Testing net", StringComparison.Ordinal)).ToList();
        Assert.Equal(["Iteration 2, Testing net (#0)", "Iteration 2, Testing net (#1)", "Iteration 4, Testing net (#0)", "Iteration 4, Testing net (#1)"], tests);

        int a = log.IndexOf("Iteration 2, Testing net (#0)");
        Assert.Matches(@"^Test loss: [\d.e+-]+$", log[a + 1]);
        Assert.Matches(@"^    Test net output #0: loss = [\d.e+-]+ \(\* 1 = [\d.e+-]+ loss\)$", log[a + 2]);
        Assert.Equal("Iteration 2, Testing net (#1)", log[a + 3]); // stage a has one output

        int b = a + 3;
        Assert.Matches(@"^Test loss: [\d.e+-]+$", log[b + 1]);
        Assert.Matches(@"^    Test net output #0: loss = ", log[b + 2]);
        Assert.Matches(@"^    Test net output #1: loss_b = [\d.e+-]+ \(\* 2 = [\d.e+-]+ loss\)$", log[b + 3]);
        // stage b's net: loss and loss_b compute the same value, weighted 1 and 2: Test loss = 3 × mean loss
        double mean = Number(log[b + 2], "loss = ");
        Assert.Equal(mean, Number(log[b + 3], "loss_b = "), 5);
        Assert.Equal(2 * mean, Number(log[b + 3], "(* 2 = "), 4);
        Assert.Equal(3 * mean, Number(log[b + 1], "Test loss: "), 4);
        // Caffe's order at a test iteration: tests come before that iteration's display
        Assert.True(a < log.FindIndex(l => l.StartsWith("Iteration 2 (", StringComparison.Ordinal)));
    }

    [Fact]
    public void TestInitializationTrue_TestsBeforeTheFirstIteration()
    {
        var log = Run(MakeSolver("test_iter: 1 test_interval: 3 display: 0 max_iter: 3"));
        var tests = log.Where(l => l.Contains("Testing net", StringComparison.Ordinal)).ToList();
        Assert.Equal(["Iteration 0, Testing net (#0)", "Iteration 3, Testing net (#0)"], tests);
        Assert.DoesNotContain(log, l => l.StartsWith("Test loss", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(SolverAction.Snapshot)]
    [InlineData(SolverAction.Stop)]
    public void RequestedAction_AfterIterationK_SnapshotsOrStops(SolverAction action)
    {
        const int k = 3;
        var param = MakeSolver("display: 0 max_iter: 6");
        param.SnapshotAfterTrain = true;
        int polls = 0;
        int finalIter = -1;
        var log = Run(param, s =>
        {
            // polled once after each iteration, as Caffe's GetRequestedAction
            s.ActionRequest = () => ++polls == k ? action : SolverAction.None;
            s.IterationCompleted += (solver, _) => finalIter = solver.Iteration;
        });
        string model = Path.Combine(_dir, $"snap_iter_{k}.caffemodel");
        Assert.True(File.Exists(model), "snapshot at the requested iteration");
        Assert.True(File.Exists(Path.Combine(_dir, $"snap_iter_{k}.solverstate")));
        Assert.Contains($"Snapshotting to binary proto file {model}", log);
        if (action == SolverAction.Stop)
        {
            Assert.Equal(k, finalIter);
            Assert.Equal("Optimization stopped early.", log[^1]);
            Assert.DoesNotContain("Optimization Done.", log);
            Assert.False(File.Exists(Path.Combine(_dir, "snap_iter_6.caffemodel")));
        }
        else
        {
            Assert.Equal(6, finalIter);
            Assert.Equal("Optimization Done.", log[^1]);
            Assert.True(File.Exists(Path.Combine(_dir, "snap_iter_6.caffemodel")), "snapshot_after_train");
        }
    }

    [Fact]
    public void StopRequestedDuringTesting_InterruptsTheTest()
    {
        var param = MakeSolver("test_iter: 5 test_interval: 2 display: 0 max_iter: 6");
        int polls = 0;
        var log = Run(param, s => s.ActionRequest = () => ++polls == 4 ? SolverAction.Stop : SolverAction.None);
        // polls: iter 0 test ×5 ... the 4th poll is inside the first test
        Assert.Contains("Test interrupted.", log);
        Assert.Equal("Optimization stopped early.", log[^1]);
    }

    [GeneratedRegex(@"^Iteration \d+ \([\d.e+-]+ iter/s, [\d.e+-]+s/\d+ iters\), loss = [\d.e+-]+$")]
    private static partial Regex DisplayLine();
}
