using System.Globalization;
using Crema.Cli;
using Crema.Data;

namespace Crema.Tests.Cli;

/// <summary>`crema test` on LeNets trained by real Caffe (current and V1 formats), over an LMDB of the bundled test digits.</summary>
public sealed class CaffeModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-cmt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string MakeNet(string template)
    {
        string data = RepoPaths.Get("data", "mnist-10k");
        string db = Path.Combine(_dir, "test_lmdb");
        if (!Directory.Exists(db))
        {
            MnistConverter.Convert(Path.Combine(data, "test-images-idx3-ubyte.gz"), Path.Combine(data, "test-labels-idx1-ubyte.gz"), db, maxItems: 1000);
        }
        string net = Path.Combine(_dir, Path.GetFileName(template));
        File.WriteAllText(net, File.ReadAllText(template).Replace("examples/mnist/mnist_test_lmdb", db, StringComparison.Ordinal));
        return net;
    }

    private static (int Exit, List<string> Lines) Run(params string[] args)
    {
        var lines = new List<string>();
        using (Log.Capture(lines))
        {
            return (CremaCommand.Run(args), lines);
        }
    }

    private static double Value(List<string> lines, string prefix)
    {
        string line = lines.Last(l => l.Contains("] " + prefix, StringComparison.Ordinal));
        string text = line[(line.IndexOf("] " + prefix, StringComparison.Ordinal) + 2 + prefix.Length)..].Split(' ')[0];
        return double.Parse(text, CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("examples/mnist/lenet_train_test.prototxt", "lenet_iter_10000.caffemodel")]
    [InlineData("tests/Crema.Tests/TestData/models/everpeace_caffe_2014_v1/mnist/lenet_train_test.prototxt", "lenet_v1_iter_10000.caffemodel")]
    public void Test_ScoresARealCaffeModelInCaffesFormat(string model, string weights)
    {
        string weightsPath = Path.Combine(AppContext.BaseDirectory, "TestData", "caffemodels", weights);
        var (exit, lines) = Run("test", "-model", MakeNet(RepoPaths.Get(model.Split('/'))), "-weights", weightsPath, "-iterations", "10");
        Assert.Equal(0, exit);
        Assert.Contains(lines, l => l.Contains("] Batch 0, accuracy = ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("] Batch 9, loss = ", StringComparison.Ordinal));
        double accuracy = Value(lines, "accuracy = ");
        double loss = Value(lines, "loss = ");
        Assert.InRange(accuracy, 0.985, 1.0);
        Assert.InRange(loss, 0.0, 0.06);
        Assert.Contains(lines, l => l.Contains($"(* 1 = {Log.Num(loss)} loss)", StringComparison.Ordinal));
    }
}
