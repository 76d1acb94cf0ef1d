using System.Diagnostics;
using System.Globalization;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Examples;

/// <summary>
/// "Where is the dot?": trains a plain convolutional net, a CoordConv net and a locally connected net, with the same
/// solver and the same number of iterations, to regress the position of the one bright pixel of a 16×16 image.
/// </summary>
public static class LocationSpecificFilters
{
    public const int Size = 16;
    public const int BatchSize = 64;

    public static readonly string[] NetFiles = ["plain_conv.prototxt", "coord_conv.prototxt", "locally_connected.prototxt"];

    /// <param name="ExampleDirectory">The folder holding the prototxts.</param>
    /// <param name="Iterations">Solver iterations per net (batch 64).</param>
    /// <param name="TrainImages">Training images, each with its dot at a random position (seed <paramref name="Seed"/>).</param>
    /// <param name="TestImages">Held-out images drawn after the training ones from the same generator.</param>
    public sealed record Options(string ExampleDirectory, int Iterations = 1500, int TrainImages = 2048, int TestImages = 512, int Seed = 7);

    /// <summary>One net's outcome: parameters of its first layer and of the whole net, its test error in pixels, training time.</summary>
    public sealed record Result(string Net, long FirstLayerParams, long TotalParams, double MeanErrorPixels, double WithinOnePixel, double Seconds);

    /// <summary>A set of dot images (n, 1, 16, 16) and their targets (n, 2): (x, y) scaled from 0..15 to -1..1.</summary>
    public sealed record Dots(float[] Images, float[] Targets, int Count);

    public static IReadOnlyList<Result> Run(Options options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var random = new Random(options.Seed);
        var train = MakeDots(options.TrainImages, random);
        var test = MakeDots(options.TestImages, random);
        var solverParam = ProtoFiles.ReadSolver(Path.Combine(options.ExampleDirectory, "solver.prototxt"));

        output.WriteLine($"Where is the dot? {train.Count} training and {test.Count} test images of 1×{Size}×{Size}, one bright pixel each.");
        output.WriteLine($"Each net: {solverParam.Type}, base_lr {Num(solverParam.BaseLr)}, {options.Iterations} iterations of batch {BatchSize}.");
        output.WriteLine($"Always guessing the centre is off by {Num(CentreBaseline(test))} pixels on average.");
        output.WriteLine();

        var results = new List<Result>();
        foreach (string file in NetFiles)
        {
            var netParam = ProtoFiles.ReadNetText(Path.Combine(options.ExampleDirectory, file));
            results.Add(Train(netParam, solverParam, options.Iterations, train, test));
        }

        output.WriteLine("| net | conv1 parameters | all parameters | mean test error (pixels) | test dots within 1 pixel | training time (s) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            output.WriteLine($"| {r.Net} | {r.FirstLayerParams:N0} | {r.TotalParams:N0} | {Num(r.MeanErrorPixels)} | {r.WithinOnePixel:P1} | {r.Seconds:F1} |");
        }
        return results;
    }

    /// <summary>Trains one net from scratch on <paramref name="train"/> and measures it on <paramref name="test"/>.</summary>
    public static Result Train(NetParameter netParam, SolverParameter solverParam, int iterations, Dots train, Dots test)
    {
        ArgumentNullException.ThrowIfNull(netParam);
        ArgumentNullException.ThrowIfNull(solverParam);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        var param = solverParam.Clone();
        param.NetParam = netParam;
        param.MaxIter = iterations;
        var timer = Stopwatch.StartNew();
        using var quiet = Log.Capture([]);
        using var solver = SolverFactory.Create(param);
        var data = solver.Net.Blob("data");
        var target = solver.Net.Blob("target");
        int cursor = 0;
        // The Input layers hold whatever we put in their blobs: copy the next batch in before each forward.
        solver.IterationStarting += _ =>
        {
            train.Images.AsSpan(cursor * Size * Size, BatchSize * Size * Size).CopyTo(data.Data);
            train.Targets.AsSpan(cursor * 2, BatchSize * 2).CopyTo(target.Data);
            cursor = (cursor + BatchSize) % (train.Count - BatchSize + 1);
        };
        solver.Step(iterations);
        double seconds = timer.Elapsed.TotalSeconds;

        var layer = solver.Net.Layer("conv1");
        long firstLayer = layer.Blobs.Sum(b => (long)b.Count);
        long total = solver.Net.LearnableParams.Sum(b => (long)b.Count);
        var (mean, within) = Evaluate(netParam, solver.Net, test);
        return new Result(netParam.Name, firstLayer, total, mean, within, seconds);
    }

    /// <summary>Runs the whole test set as one batch through a TEST-phase copy sharing the trained weights.</summary>
    public static (double MeanErrorPixels, double WithinOnePixel) Evaluate(NetParameter netParam, Net trained, Dots test)
    {
        ArgumentNullException.ThrowIfNull(trained);
        ArgumentNullException.ThrowIfNull(test);
        using var net = new Net(netParam, Phase.Test);
        net.ShareTrainedLayersWith(trained);
        var data = net.Blob("data");
        var target = net.Blob("target");
        data.Reshape(test.Count, 1, Size, Size);
        target.Reshape(test.Count, 2);
        test.Images.CopyTo(data.Data);
        test.Targets.CopyTo(target.Data);
        net.Forward();
        var pred = net.Blob("pred").Data;
        double sum = 0;
        int within = 0;
        for (int i = 0; i < test.Count; i++)
        {
            double d = Distance(pred[2 * i], pred[(2 * i) + 1], test.Targets[2 * i], test.Targets[(2 * i) + 1]);
            sum += d;
            within += d <= 1 ? 1 : 0;
        }
        return (sum / test.Count, (double)within / test.Count);
    }

    /// <summary><paramref name="count"/> black images with one pixel of value 1 at a uniformly random position.</summary>
    public static Dots MakeDots(int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var images = new float[count * Size * Size];
        var targets = new float[count * 2];
        for (int i = 0; i < count; i++)
        {
            int x = random.Next(Size);
            int y = random.Next(Size);
            images[(i * Size * Size) + (y * Size) + x] = 1;
            targets[2 * i] = ToUnit(x);
            targets[(2 * i) + 1] = ToUnit(y);
        }
        return new Dots(images, targets, count);
    }

    private static double CentreBaseline(Dots test)
    {
        double sum = 0;
        for (int i = 0; i < test.Count; i++)
        {
            sum += Distance(0, 0, test.Targets[2 * i], test.Targets[(2 * i) + 1]);
        }
        return sum / test.Count;
    }

    private static float ToUnit(int pixel) => (2f * pixel / (Size - 1)) - 1;

    // Distance in pixels between two positions given in the -1..1 scale.
    private static double Distance(double x0, double y0, double x1, double y1)
    {
        double scale = (Size - 1) / 2.0;
        return Math.Sqrt(((x0 - x1) * (x0 - x1)) + ((y0 - y1) * (y0 - y1))) * scale;
    }

    private static string Num(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
