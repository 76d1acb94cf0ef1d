using Crema.Data;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;
using Crema.Tests.Cli;
using Crema.Tests.Data;
using Xunit.Abstractions;

namespace Crema.Tests.Solvers;

/// <summary>
/// Bad snapshots and weights given to `crema train` (-snapshot, -weights) and bad snapshot folders: one clear line on
/// stderr naming the file and what is wrong, exit code 1, and never a half-written snapshot. (Missing net files and
/// test_iter/test_net mismatches are covered by Cli/BadInputTests.)
/// </summary>
[Collection(CliCollection.Name)]
public sealed class SolverBadInputTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string NetText(int classes) => $$"""
        name: "train"
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: {{classes}} } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    private string WriteSolver(string name, int classes = 2, string extra = "", string? prefix = null)
    {
        File.WriteAllText(_dir.Combine(name + "_net.prototxt"), NetText(classes));
        File.WriteAllText(_dir.Combine(name + ".prototxt"), $"""
            net: "{_dir.Combine(name + "_net.prototxt")}"
            base_lr: 0.1 momentum: 0.9 lr_policy: "fixed" max_iter: 2 snapshot_after_train: true
            snapshot_prefix: "{prefix ?? _dir.Combine(name)}"
            {extra}
            """);
        return _dir.Combine(name + ".prototxt");
    }

    private string RandomFile(string name)
    {
        var bytes = new byte[4096];
        new Random(1701).NextBytes(bytes);
        File.WriteAllBytes(_dir.Combine(name), bytes);
        return _dir.Combine(name);
    }

    private CliResult Fails(string[] args, params string[] expect)
    {
        var r = CliRunner.Run(args);
        output.WriteLine(r.Error);
        Assert.False(r.AllText.Contains("   at ", StringComparison.Ordinal), $"stack trace leaked:\n{r.AllText}");
        Assert.True(r.ExitCode == 1, $"exit code {r.ExitCode}:\n{r.AllText}");
        Assert.True(r.ErrorLines.Length == 1, $"expected one line on stderr, got:\n{r.Error}");
        foreach (string e in expect)
        {
            Assert.True(r.ErrorLines[0].Contains(e, StringComparison.Ordinal), $"'{e}' missing from: {r.ErrorLines[0]}");
        }
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories));
        return r;
    }

    [Theory]
    [InlineData("corrupt.solverstate")]
    [InlineData("corrupt.solverstate.h5")]
    public void Resume_FromRandomBytes_NamesTheFile(string name)
    {
        string state = RandomFile(name);
        Fails(["train", "-solver", WriteSolver("s"), "-snapshot", state], name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resume_FromAnotherNetsState_NamesTheFileAndTheMismatch(bool hdf5)
    {
        string format = hdf5 ? "snapshot_format: HDF5" : "";
        Assert.Equal(0, CliRunner.Run("train", "-solver", WriteSolver("three", classes: 3, extra: format)).ExitCode);
        string state = _dir.Combine("three_iter_2.solverstate" + (hdf5 ? ".h5" : ""));
        Assert.True(File.Exists(state));
        // Same number of history blobs (SGD, 2 params), other shapes: the weights copy fails first, naming layer and shapes.
        Fails(["train", "-solver", WriteSolver("two"), "-snapshot", state], "three_iter_2.caffemodel", "ip", "3");
    }

    [Fact]
    public void Resume_FromAnotherSolverTypesState_NamesHistory()
    {
        Assert.Equal(0, CliRunner.Run("train", "-solver", WriteSolver("adam", extra: "type: \"Adam\"")).ExitCode);
        Fails(["train", "-solver", WriteSolver("sgd"), "-snapshot", _dir.Combine("adam_iter_2.solverstate")], "adam_iter_2.solverstate", "history");
    }

    [Theory]
    [InlineData("corrupt.caffemodel")]
    [InlineData("corrupt.caffemodel.h5")]
    public void Finetune_FromCorruptWeights_NamesTheFile(string name)
    {
        string weights = RandomFile(name);
        Fails(["train", "-solver", WriteSolver("s"), "-weights", weights], name);
    }

    [Fact]
    public void Snapshot_IntoMissingFolder_FailsBeforeTraining()
    {
        var r = Fails(["train", "-solver", WriteSolver("s", extra: "snapshot: 1", prefix: _dir.Combine("nope/s"))], "snapshot_prefix", "nope");
        Assert.DoesNotContain(r.Log, l => l.Contains("Iteration 0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("snapshot_format: HDF5")]
    public void Snapshot_WhenTheTargetCannotBeWritten_LeavesNoPartialFile(string format)
    {
        // Running as root defeats chmod; a folder squatting on the snapshot's name makes the final rename fail instead.
        string ext = format.Length > 0 ? ".caffemodel.h5" : ".caffemodel";
        Directory.CreateDirectory(_dir.Combine("s_iter_2" + ext));
        Fails(["train", "-solver", WriteSolver("s", extra: format)], "s_iter_2" + ext);
        Assert.Empty(Directory.GetFiles(_dir.Path, "s_iter_2*"));
    }

    [Fact]
    public void InProcess_CorruptStateThrowsCremaException_AndLeavesTheSolverUsable()
    {
        Log.Quiet = true;
        var param = ProtoFiles.ReadSolver(WriteSolver("s"));
        using var solver = SolverFactory.Create(param, _dir.Path);
        var before = solver.Net.LearnableParams[0].Data.ToArray();
        var e = Assert.Throws<CremaException>(() => solver.Restore(RandomFile("x.solverstate.h5")));
        Assert.Contains("x.solverstate.h5", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, solver.Iteration);
        Assert.Equal(before, solver.Net.LearnableParams[0].Data.ToArray());
    }
}

/// <summary>random_seed makes training repeatable: fillers, Dropout masks and the Data layer's prefetch-thread transforms.</summary>
public sealed class SolverDeterminismTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private SolverParameter MakeSolver(int seed)
    {
        string db = _dir.Combine("db");
        if (!Directory.Exists(db))
        {
            MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, db, maxItems: 100);
        }
        string text = $$"""
            net_param {
              layer { name: "data" type: "Data" top: "data" top: "label"
                transform_param { scale: 0.00390625 crop_size: 24 mirror: true } data_param { source: "{{db}}" batch_size: 16 backend: LMDB } }
              layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 5 stride: 2 weight_filler { type: "xavier" } } }
              layer { name: "drop" type: "Dropout" bottom: "conv" top: "conv" dropout_param { dropout_ratio: 0.5 } }
              layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 10 weight_filler { type: "gaussian" std: 0.1 } } }
              layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            }
            base_lr: 0.05 momentum: 0.9 lr_policy: "fixed" max_iter: 12 display: 0 snapshot_after_train: false random_seed: {{seed}}
            """;
        return PrototxtParser.Parse<SolverParameter>(text, "solver.prototxt");
    }

    private float[][] Train(int seed)
    {
        using var solver = SolverFactory.Create(MakeSolver(seed));
        solver.Solve();
        return solver.Net.LearnableParams.Select(p => p.Data.ToArray()).ToArray();
    }

    [Fact]
    public void SameSeed_GivesBitIdenticalWeights_OtherSeedDoesNot()
    {
        Log.Quiet = true;
        var first = Train(1701);
        var second = Train(1701);
        var other = Train(1702);
        Assert.Equal(first.Length, second.Length);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
        }
        Assert.NotEqual(first[0], other[0]);
    }
}
