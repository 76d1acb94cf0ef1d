using Crema.Data;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;

namespace Crema.Tests.EndToEnd;

/// <summary>LeNet from examples/mnist on the bundled digits, through LMDBs, the Data layer and the SGD solver.</summary>
public sealed class LeNetTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-lenet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SolverParameter Prepare(int trainItems, int testItems, int maxIter, int testIter)
    {
        string data = RepoPaths.Get("data", "mnist-10k");
        MnistConverter.Convert(Path.Combine(data, "train-images-idx3-ubyte.gz"), Path.Combine(data, "train-labels-idx1-ubyte.gz"), Path.Combine(_dir, "train_lmdb"), maxItems: trainItems);
        MnistConverter.Convert(Path.Combine(data, "test-images-idx3-ubyte.gz"), Path.Combine(data, "test-labels-idx1-ubyte.gz"), Path.Combine(_dir, "test_lmdb"), maxItems: testItems);
        string net = File.ReadAllText(RepoPaths.Get("examples", "mnist", "lenet_train_test.prototxt"))
            .Replace("examples/mnist/mnist_train_lmdb", Path.Combine(_dir, "train_lmdb"), StringComparison.Ordinal)
            .Replace("examples/mnist/mnist_test_lmdb", Path.Combine(_dir, "test_lmdb"), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "net.prototxt"), net);
        var solver = PrototxtParser.Parse<SolverParameter>(File.ReadAllText(RepoPaths.Get("examples", "mnist", "lenet_solver.prototxt")), "lenet_solver.prototxt");
        solver.Net = Path.Combine(_dir, "net.prototxt");
        solver.SnapshotPrefix = Path.Combine(_dir, "lenet");
        solver.MaxIter = maxIter;
        solver.TestIter[0] = testIter;
        solver.TestInterval = maxIter;
        solver.Display = 0;
        solver.RandomSeed = 1701;
        return solver;
    }

    [Fact]
    public void ShortRun_LearnsDigits()
    {
        Log.Quiet = true;
        using var solver = SolverFactory.Create(Prepare(1500, 300, 100, 3));
        solver.TestAll();
        float before = solver.Test(0)[0];
        solver.Solve();
        float after = solver.Test(0)[0];
        Assert.InRange(before, 0, 0.3);
        Assert.True(after > 0.8, $"accuracy after 100 iterations: {after}");
        Assert.True(File.Exists(Path.Combine(_dir, "lenet_iter_100.caffemodel")));
    }

    /// <summary>The README's job: Caffe's LeNet solver for 2,000 iterations on all 8,000/2,000 digits reaches ≥ 0.97.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void FullRun_ReachesCaffesAccuracy()
    {
        Log.Quiet = true;
        using var solver = SolverFactory.Create(Prepare(8000, 2000, 2000, 20));
        solver.Solve();
        float accuracy = solver.Test(0)[0];
        Assert.True(accuracy >= 0.97, $"accuracy after 2000 iterations: {accuracy}");
    }
}
