using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;
using PureHDF;

namespace Crema.Tests.Solvers;

public sealed class SolverSnapshotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-snap-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SolverParameter MakeSolver(string type)
    {
        string text = $$"""
            net_param {
              layer { name: "data" type: "Input" top: "x" top: "t" input_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 } } }
              layer { name: "ip" type: "InnerProduct" bottom: "x" top: "h" inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
              layer { name: "relu" type: "ReLU" bottom: "h" top: "h" }
              layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "y" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
              layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
            }
            type: "{{type}}" base_lr: 0.05 momentum: 0.9 weight_decay: 0.001 lr_policy: "multistep" gamma: 0.5 stepvalue: 2 stepvalue: 5
            max_iter: 8 random_seed: 1701 display: 0 snapshot_prefix: "{{_dir}}/net"
            """;
        return PrototxtParser.Parse<SolverParameter>(text, "solver.prototxt");
    }

    private static SolverParameter WithFormat(SolverParameter param, bool hdf5)
    {
        if (hdf5)
        {
            param.SnapshotFormat = SolverParameter.Types.SnapshotFormat.Hdf5;
        }
        return param;
    }

    private static void Feed(Solver solver)
    {
        TestBlobs.Gaussian(11, 1, 4, 3).Data.CopyTo(solver.Net.Blob("x").Data);
        TestBlobs.Gaussian(12, 1, 4, 2).Data.CopyTo(solver.Net.Blob("t").Data);
    }

    [Theory]
    [InlineData("SGD", false)]
    [InlineData("Adam", false)]
    [InlineData("AdaDelta", false)]
    [InlineData("SGD", true)]
    [InlineData("Adam", true)]
    [InlineData("AdaDelta", true)]
    public void Resume_IsBitIdenticalToAnUninterruptedRun(string type, bool hdf5)
    {
        Log.Quiet = true;
        string ext = hdf5 ? ".h5" : "";
        float[][] straight;
        using (var solver = SolverFactory.Create(MakeSolver(type)))
        {
            Feed(solver);
            solver.Step(8);
            straight = solver.Net.LearnableParams.Select(p => p.Data.ToArray()).ToArray();
        }
        using (var first = SolverFactory.Create(WithFormat(MakeSolver(type), hdf5)))
        {
            Feed(first);
            first.Step(4);
            first.Snapshot();
        }
        Assert.True(File.Exists(Path.Combine(_dir, "net_iter_4.caffemodel" + ext)));
        Assert.True(File.Exists(Path.Combine(_dir, "net_iter_4.solverstate" + ext)));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        var param = MakeSolver(type);
        param.RandomSeed = 5; // different fillers: everything must come from the snapshot
        using var resumed = SolverFactory.Create(param);
        Feed(resumed);
        resumed.Restore(Path.Combine(_dir, "net_iter_4.solverstate" + ext));
        Assert.Equal(4, resumed.Iteration);
        resumed.Step(4);
        for (int i = 0; i < straight.Length; i++)
        {
            Assert.Equal(straight[i], resumed.Net.LearnableParams[i].Data.ToArray());
        }
    }

    [Fact]
    public void Hdf5Snapshot_HasCaffesLayout()
    {
        Log.Quiet = true;
        var param = WithFormat(MakeSolver("Adam"), hdf5: true);
        param.SnapshotDiff = true;
        using var solver = SolverFactory.Create(param);
        Feed(solver);
        solver.Step(3);
        solver.Snapshot();
        string model = Path.Combine(_dir, "net_iter_3.caffemodel.h5");
        using (var file = H5File.OpenRead(model))
        {
            Assert.Equal(["data", "diff"], file.Children().Select(c => c.Name).Order(StringComparer.Ordinal));
            var data = file.Group("data");
            // every layer gets a group, even without params (Caffe's Net::ToHDF5)
            Assert.Equal(["data", "ip", "ip2", "loss", "relu"], data.Children().Select(c => c.Name).Order(StringComparer.Ordinal));
            Assert.Empty(data.Group("relu").Children());
            var w = data.Group("ip").Dataset("0");
            Assert.Equal([5UL, 3UL], w.Space.Dimensions);
            Assert.Equal(solver.Net.Layer("ip").Blobs[0].Data.ToArray(), w.Read<float[]>());
            Assert.Equal([5UL], data.Group("ip").Dataset("1").Space.Dimensions);
            Assert.Equal(solver.Net.Layer("ip2").Blobs[0].Diff.ToArray(), file.Group("diff").Group("ip2").Dataset("0").Read<float[]>());
        }
        using (var state = H5File.OpenRead(Path.Combine(_dir, "net_iter_3.solverstate.h5")))
        {
            Assert.Equal(3, state.Dataset("iter").Read<int>());
            Assert.Equal(1, state.Dataset("current_step").Read<int>());
            Assert.Equal(model, state.Dataset("learned_net").Read<string>().TrimEnd('\0'));
            // Adam: 4 first moments, then 4 second moments
            Assert.Equal(8, state.Group("history").Children().Count());
            Assert.Equal([2UL, 5UL], state.Group("history").Dataset("6").Space.Dimensions);
        }
    }

    [Fact]
    public void CopyTrainedLayersFrom_ReadsHdf5AndBinaryprotoAlike()
    {
        Log.Quiet = true;
        using var solver = SolverFactory.Create(MakeSolver("SGD"));
        Feed(solver);
        solver.Step(2);
        solver.Net.SaveHdf5(Path.Combine(_dir, "w.caffemodel.h5"));
        var param = MakeSolver("SGD");
        param.RandomSeed = 9;
        using var other = SolverFactory.Create(param);
        Assert.NotEqual(solver.Net.LearnableParams[0].Data.ToArray(), other.Net.LearnableParams[0].Data.ToArray());
        other.Net.CopyTrainedLayersFrom(Path.Combine(_dir, "w.caffemodel.h5"));
        for (int i = 0; i < solver.Net.LearnableParams.Count; i++)
        {
            Assert.Equal(solver.Net.LearnableParams[i].Data.ToArray(), other.Net.LearnableParams[i].Data.ToArray());
        }
    }

    [Fact]
    public void Restore_WithAnotherSolverTypesState_SaysWhatIsWrong()
    {
        Log.Quiet = true;
        using (var sgd = SolverFactory.Create(MakeSolver("SGD")))
        {
            Feed(sgd);
            sgd.Step(1);
            sgd.Snapshot();
        }
        using var adam = SolverFactory.Create(MakeSolver("Adam"));
        var e = Assert.Throws<CremaException>(() => adam.Restore(Path.Combine(_dir, "net_iter_1.solverstate")));
        Assert.Contains("net_iter_1.solverstate", e.Message, StringComparison.Ordinal);
        Assert.Contains("history", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_IntoMissingFolder_FailsNamingIt()
    {
        Log.Quiet = true;
        var param = MakeSolver("SGD");
        param.SnapshotPrefix = Path.Combine(_dir, "missing", "net");
        using var solver = SolverFactory.Create(param);
        var e = Assert.Throws<CremaException>(solver.Snapshot);
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_FireInCaffesOrder()
    {
        Log.Quiet = true;
        using var solver = SolverFactory.Create(MakeSolver("SGD"));
        Feed(solver);
        var events = new List<string>();
        solver.IterationStarting += s => events.Add($"start {s.Iteration}");
        solver.GradientsReady += s => events.Add($"grad {s.Iteration}");
        solver.IterationCompleted += (s, _) => events.Add($"done {s.Iteration}");
        solver.Step(2);
        Assert.Equal(["start 0", "grad 0", "done 1", "start 1", "grad 1", "done 2"], events);
    }
}
