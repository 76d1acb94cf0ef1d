using System.Globalization;
using Crema.Cli;
using Crema.Examples.FullyConvolutional;

namespace Crema.Tests.Examples;

/// <summary>examples/fully_convolutional, shortened: the surgery is exact, the saved model loads, the map has the promised shape.</summary>
public sealed class FullyConvolutionalExampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-fcn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ShortRun_SurgeryKeepsLeNetsAnswersAndScansWiderInputs()
    {
        var text = new StringWriter();
        var r = FullyConvolutionalExample.Run(new FullyConvolutionalExample.Options
        {
            RepoRoot = RepoPaths.Root,
            WorkDir = _dir,
            TrainDigits = 500,
            TestDigits = 100,
            HeadIterations = 5,
            LeNetIterations = 20,
            Canvases = 2,
            DigitsPerCanvas = 3,
        }, text);
        string printed = text.ToString();

        Assert.Contains("cccp2 64 10 4 4 (10240) -> score 64 10 1 1 (640)", printed, StringComparison.Ordinal);
        Assert.Contains("head parameters: 6110", printed, StringComparison.Ordinal);
        Assert.InRange(r.HeadAccuracy, 0, 1);
        Assert.True(r.LeNetAccuracy > 0.3, $"LeNet after 20 iterations: {r.LeNetAccuracy}");

        Assert.Contains("ip1 weights (500, 800) -> ip1-conv (500, 50, 4, 4)", printed, StringComparison.Ordinal);
        Assert.Contains("ip2 weights (10, 500) -> ip2-conv (10, 500, 1, 1)", printed, StringComparison.Ordinal);
        Assert.InRange(r.MaxLogitDifference, 0, 1e-5f);
        Assert.InRange(r.MaxProbDifference, 0, 1e-6f);
        Assert.Equal(r.ComparedDigits, r.SameAnswers);
        Assert.Equal(0f, r.ReloadDifference);
        Assert.Equal(r.LeNetAccuracy, r.FullConvAccuracy, 5);

        // 28 x 84 canvases: (84 - 28) / 4 + 1 = 15 windows, each one LeNet evaluation.
        Assert.Equal([2, 10, 1, 15], r.MapShape);
        Assert.All(r.ClassMaps, m => Assert.Equal(15, m.Length));
        Assert.Equal(6, r.AlignedTotal);
        Assert.InRange(r.WindowVsAloneDifference, 0, 1e-5f);

        // The README's `crema test` line on the saved .caffemodel reports the same accuracy.
        string prototxt = Path.Combine(_dir, "lenet_full_conv_test.prototxt");
        File.WriteAllText(prototxt, File.ReadAllText(RepoPaths.Get("examples", "fully_convolutional", "lenet_full_conv_test.prototxt"))
            .Replace("examples/fully_convolutional/out/mnist_test_lmdb", Path.Combine(_dir, "mnist_test_lmdb"), StringComparison.Ordinal));
        var lines = new List<string>();
        int exit;
        using (Log.Capture(lines))
        {
            exit = CremaCommand.Run(["test", "-model", prototxt, "-weights", r.ModelPath, "-iterations", "1"]);
        }
        Assert.Equal(0, exit);
        string last = lines.Last(l => l.Contains("] accuracy = ", StringComparison.Ordinal));
        double accuracy = double.Parse(last[(last.IndexOf("] accuracy = ", StringComparison.Ordinal) + 13)..], CultureInfo.InvariantCulture);
        Assert.Equal(r.FullConvAccuracy, accuracy, 5);
    }
}
