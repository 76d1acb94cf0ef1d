using System.Globalization;
using System.Text;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Examples.FullyConvolutional;

/// <summary>
/// (a) An MNIST classifier whose head is 1×1 convolutions instead of dense layers; (b) net surgery: LeNet's
/// InnerProduct weights copied into convolutions, so the trained net scans images of any size.
/// </summary>
public static class FullyConvolutionalExample
{
    private const float PixelScale = 0.00390625f; // 1/256, LeNet's transform_param scale

    public sealed record Options
    {
        /// <summary>Repository root (holds data/mnist-10k and examples/); found from the working folder when null.</summary>
        public string? RepoRoot { get; init; }

        /// <summary>Where the LMDBs and the .caffemodel go; examples/fully_convolutional/out when null.</summary>
        public string? WorkDir { get; init; }

        public int TrainDigits { get; init; } = 8000;

        /// <summary>A multiple of 100 (the test batch size).</summary>
        public int TestDigits { get; init; } = 2000;

        /// <summary>Training iterations of the 1×1-head net; the solver file's max_iter when null.</summary>
        public int? HeadIterations { get; init; }

        /// <summary>Training iterations of LeNet before surgery; the solver file's max_iter when null.</summary>
        public int? LeNetIterations { get; init; }

        public int Canvases { get; init; } = 4;

        public int DigitsPerCanvas { get; init; } = 5;
    }

    /// <summary>The facts the example prints, for tests.</summary>
    public sealed record Result(
        float HeadAccuracy,
        float LeNetAccuracy,
        float MaxLogitDifference,
        float MaxProbDifference,
        int SameAnswers,
        int ComparedDigits,
        float ReloadDifference,
        float FullConvAccuracy,
        string ModelPath,
        int[] MapShape,
        int[][] ClassMaps,
        int[][] TrueDigits,
        int AlignedCorrect,
        int AlignedTotal,
        float WindowVsAloneDifference);

    public static Result Run(Options o, TextWriter output)
    {
        string root = o.RepoRoot ?? FindRepoRoot();
        string here = Path.Combine(root, "examples", "fully_convolutional");
        string work = o.WorkDir ?? Path.Combine(here, "out");
        string mnist = Path.Combine(root, "data", "mnist-10k");
        string trainDb = Path.Combine(work, "mnist_train_lmdb");
        string testDb = Path.Combine(work, "mnist_test_lmdb");
        Convert(mnist, "train", trainDb, o.TrainDigits);
        Convert(mnist, "test", testDb, o.TestDigits);
        var testImages = IdxFile.Read(Path.Combine(mnist, "test-images-idx3-ubyte.gz"), o.TestDigits);
        byte[] testLabels = IdxFile.Read(Path.Combine(mnist, "test-labels-idx1-ubyte.gz"), o.TestDigits).Data;
        output.WriteLine($"Converted {o.TrainDigits} training and {o.TestDigits} test digits to LMDBs in {Display(root, work)}");
        output.WriteLine();

        // Crema logs like Caffe (glog lines on stderr); we keep them and print only the training progress.
        var log = new List<string>();
        using var capture = Log.Capture(log);

        // --- (a) A 1×1 convolution instead of a dense layer ------------------------------------------------------------
        output.WriteLine("(a) A classifier whose head is 1x1 convolutions + global average pooling (fcn_head_train_test.prototxt)");
        float headAccuracy;
        using (var solver = CreateSolver(Path.Combine(here, "fcn_head_solver.prototxt"), root, trainDb, testDb, o.TestDigits))
        {
            var net = solver.Net;
            output.WriteLine($"   pool2 {net.Blob("pool2").ShapeString()} -> cccp1 {net.Blob("cccp1").ShapeString()} -> cccp2 {net.Blob("cccp2").ShapeString()} -> score {net.Blob("score").ShapeString()}");
            output.WriteLine($"   head parameters: {ParamCount(net, "cccp1", "cccp2")} (LeNet's ip1 + ip2: 405510)");
            headAccuracy = Train(solver, o.HeadIterations, log, output);
            output.WriteLine($"   test accuracy after {solver.Iteration} iterations: {Log.Num(headAccuracy)} on {o.TestDigits} test digits");
        }
        output.WriteLine();

        // --- (b) Net surgery ---------------------------------------------------------------------------------------
        output.WriteLine("(b) Net surgery: LeNet's InnerProduct layers become convolutions");
        NetParameter trained;
        float lenetAccuracy;
        using (var solver = CreateSolver(Path.Combine(here, "lenet_solver.prototxt"), root, trainDb, testDb, o.TestDigits))
        {
            lenetAccuracy = Train(solver, o.LeNetIterations, log, output);
            output.WriteLine($"   LeNet test accuracy after {solver.Iteration} iterations: {Log.Num(lenetAccuracy)}");
            trained = solver.Net.ToProto();
        }

        using var lenet = new Net(ProtoFiles.ReadNetText(Path.Combine(root, "examples", "mnist", "lenet.prototxt")), Phase.Test);
        lenet.CopyTrainedLayersFrom(trained);
        string fullConvPrototxt = Path.Combine(here, "lenet_full_conv.prototxt");
        using var fullConv = new Net(ProtoFiles.ReadNetText(fullConvPrototxt), Phase.Test);
        // conv1 and conv2 have the same names in both files, so they load as usual; ip1/ip2 are skipped by name.
        fullConv.CopyTrainedLayersFrom(trained);
        Transplant(lenet, "ip1", fullConv, "ip1-conv", output);
        Transplant(lenet, "ip2", fullConv, "ip2-conv", output);

        // Same 28×28 digits through both nets: the outputs must agree up to float rounding.
        int batch = lenet.Blob("data").Num;
        var digits = Enumerable.Range(0, batch).ToArray();
        fullConv.Blob("data").Reshape(batch, 1, 28, 28);
        FillDigits(lenet.Blob("data"), testImages, digits);
        FillDigits(fullConv.Blob("data"), testImages, digits);
        lenet.Forward();
        fullConv.Forward();
        float logitDiff = MaxAbsDifference(lenet.Blob("ip2").Data, fullConv.Blob("ip2-conv").Data);
        float probDiff = MaxAbsDifference(lenet.Blob("prob").Data, fullConv.Blob("prob").Data);
        int[] lenetAnswers = ArgMax(lenet.Blob("prob"));
        int[] fullConvAnswers = ArgMax(fullConv.Blob("prob"));
        int same = lenetAnswers.Zip(fullConvAnswers).Count(p => p.First == p.Second);
        output.WriteLine($"   {batch} test digits at 28x28: LeNet ip2 {lenet.Blob("ip2").ShapeString()}, fully convolutional ip2-conv {fullConv.Blob("ip2-conv").ShapeString()}");
        output.WriteLine($"   max |difference|: logits {Log.Num(logitDiff)}, probabilities {Log.Num(probDiff)}; same answer for {same} of {batch} digits");

        // The surgered weights are an ordinary .caffemodel: any net with these layer names can load them.
        Directory.CreateDirectory(work);
        string modelPath = Path.Combine(work, "lenet_full_conv.caffemodel");
        fullConv.Save(modelPath);
        using var reloaded = new Net(ProtoFiles.ReadNetText(fullConvPrototxt), Phase.Test);
        reloaded.CopyTrainedLayersFrom(modelPath);
        reloaded.Blob("data").Reshape(batch, 1, 28, 28);
        FillDigits(reloaded.Blob("data"), testImages, digits);
        reloaded.Forward();
        float reloadDiff = MaxAbsDifference(fullConv.Blob("prob").Data, reloaded.Blob("prob").Data);
        output.WriteLine($"   saved {Display(root, modelPath)} ({new FileInfo(modelPath).Length} bytes); reloaded into lenet_full_conv.prototxt: max |difference| {Log.Num(reloadDiff)}");
        float fullConvAccuracy = Score(Path.Combine(here, "lenet_full_conv_test.prototxt"), testDb, modelPath, o.TestDigits);
        output.WriteLine($"   lenet_full_conv_test.prototxt + that file on the test LMDB (what `crema test` runs): accuracy {Log.Num(fullConvAccuracy)}");
        output.WriteLine();

        // --- (b) continued: a wider input gives a map of answers ----------------------------------------------------
        int width = 28 * o.DigitsPerCanvas;
        var input = reloaded.Blob("data");
        input.Reshape(o.Canvases, 1, 28, width);
        var trueDigits = new int[o.Canvases][];
        for (int c = 0; c < o.Canvases; c++)
        {
            int[] placed = Enumerable.Range(batch + c * o.DigitsPerCanvas, o.DigitsPerCanvas).ToArray();
            PlaceSideBySide(input, c, testImages, placed);
            trueDigits[c] = placed.Select(i => (int)testLabels[i]).ToArray();
        }
        reloaded.Forward();
        var prob = reloaded.Blob("prob");
        int[] mapShape = [prob.Num, prob.Channels, prob.Height, prob.Width];
        output.WriteLine($"   {o.Canvases} canvases of 28x{width} ({o.DigitsPerCanvas} test digits side by side): prob {prob.ShapeString()}, a 1x{prob.Width} class map per canvas");
        output.WriteLine($"   output column j sees the 28x28 window at x = 4j; the digits sit at x = 0, 28, 56, ... = columns 0, 7, 14, ...");
        var maps = new int[o.Canvases][];
        int aligned = 0, alignedCorrect = 0;
        for (int c = 0; c < o.Canvases; c++)
        {
            maps[c] = ArgMaxMap(prob, c);
            var truth = new StringBuilder();
            for (int j = 0; j < prob.Width; j++)
            {
                bool onDigit = j % 7 == 0 && j / 7 < o.DigitsPerCanvas;
                truth.Append(onDigit ? trueDigits[c][j / 7].ToString(CultureInfo.InvariantCulture) : "·").Append(' ');
                if (onDigit)
                {
                    aligned++;
                    alignedCorrect += maps[c][j] == trueDigits[c][j / 7] ? 1 : 0;
                }
            }
            output.WriteLine($"   canvas {c}  true:   {truth.ToString().TrimEnd()}");
            output.WriteLine($"             argmax: {string.Join(' ', maps[c])}");
        }
        output.WriteLine($"   windows centred on a digit: {alignedCorrect} of {aligned} read correctly (windows between two digits see halves)");

        // Scanning is LeNet run at every window: canvas 0's digit columns equal the probabilities of each digit alone.
        float[] canvasProb = prob.Data.ToArray();
        int mapWidth = prob.Width; // read now: the next Reshape changes prob's shape too
        int[] alone = Enumerable.Range(batch, o.DigitsPerCanvas).ToArray();
        input.Reshape(alone.Length, 1, 28, 28);
        FillDigits(input, testImages, alone);
        reloaded.Forward();
        float windowDiff = 0;
        for (int d = 0; d < alone.Length; d++)
        {
            for (int c = 0; c < 10; c++)
            {
                float scanned = canvasProb[c * mapWidth + 7 * d]; // canvas 0, class c, column 7d
                windowDiff = Math.Max(windowDiff, Math.Abs(scanned - reloaded.Blob("prob").Data[d * 10 + c]));
            }
        }
        output.WriteLine($"   canvas 0, columns 0, 7, ..., {7 * (alone.Length - 1)} vs. its {alone.Length} digits run alone at 28x28: max |probability difference| {Log.Num(windowDiff)}");

        return new Result(headAccuracy, lenetAccuracy, logitDiff, probDiff, same, batch, reloadDiff, fullConvAccuracy, modelPath,
            mapShape, maps, trueDigits, alignedCorrect, aligned, windowDiff);
    }

    /// <summary>
    /// Net surgery proper. InnerProduct weights are (outputs, inputs) with the inputs flattened in C, H, W order; a
    /// convolution's are (outputs, C, kh, kw) in the same order. So the numbers are copied as they are: only the shape
    /// they are read with changes.
    /// </summary>
    private static void Transplant(Net from, string innerProduct, Net to, string convolution, TextWriter output)
    {
        var source = from.Params[innerProduct];
        var target = to.Params[convolution];
        for (int i = 0; i < source.Count; i++)
        {
            if (source[i].Count != target[i].Count)
            {
                throw new InvalidOperationException($"{innerProduct} blob {i} has {source[i].Count} values, {convolution} blob {i} {target[i].Count}");
            }
            source[i].Data.CopyTo(target[i].Data);
        }
        output.WriteLine($"   {innerProduct} weights {Shape(source[0])} -> {convolution} {Shape(target[0])}, bias {Shape(source[1])} -> {Shape(target[1])}: {source[0].Count} + {source[1].Count} values copied in order");
    }

    private static Solver CreateSolver(string solverFile, string root, string trainDb, string testDb, int testDigits)
    {
        var solverParam = ProtoFiles.ReadSolver(solverFile);
        var netParam = ProtoFiles.ReadNetText(Path.Combine(root, solverParam.Net));
        PointDataAt(netParam, trainDb, testDb);
        solverParam.ClearNet();
        solverParam.NetParam = netParam;
        var testData = netParam.Layer.First(l => l.Type == "Data" && l.Include.Any(r => r.Phase == Phase.Test));
        solverParam.TestIter[0] = testDigits / (int)testData.DataParam.BatchSize;
        return SolverFactory.Create(solverParam);
    }

    private static void PointDataAt(NetParameter net, string trainDb, string testDb)
    {
        foreach (var layer in net.Layer.Where(l => l.Type == "Data"))
        {
            layer.DataParam.Source = layer.Include.Any(r => r.Phase == Phase.Test) ? testDb : trainDb;
        }
    }

    private static float Train(Solver solver, int? iterations, List<string> log, TextWriter output)
    {
        log.Clear();
        solver.Step(iterations ?? solver.Param.MaxIter);
        foreach (string line in log.Select(Message).Where(m => m.StartsWith("Iteration", StringComparison.Ordinal) && m.Contains("loss", StringComparison.Ordinal)))
        {
            output.WriteLine($"   log: {line}");
        }
        var outputs = solver.Test(0);
        int accuracy = solver.TestNets[0].OutputBlobs.Select(b => b.Name).ToList().IndexOf("accuracy");
        return outputs[accuracy];
    }

    // What `crema test -model M -weights W -iterations N` computes: the mean accuracy over N test batches.
    private static float Score(string prototxt, string testDb, string weights, int testDigits)
    {
        var param = ProtoFiles.ReadNetText(prototxt);
        PointDataAt(param, testDb, testDb);
        using var net = new Net(param, Phase.Test);
        net.CopyTrainedLayersFrom(weights);
        int batches = testDigits / net.Blob("data").Num;
        double sum = 0;
        for (int i = 0; i < batches; i++)
        {
            net.Forward();
            sum += net.Blob("accuracy").Data[0];
        }
        return (float)(sum / batches);
    }

    private static void FillDigits(Blob input, IdxFile images, int[] indices)
    {
        var data = input.Data;
        for (int n = 0; n < indices.Length; n++)
        {
            var pixels = images.Item(indices[n]);
            for (int k = 0; k < pixels.Length; k++)
            {
                data[n * pixels.Length + k] = pixels[k] * PixelScale;
            }
        }
    }

    private static void PlaceSideBySide(Blob canvas, int n, IdxFile images, int[] indices)
    {
        var data = canvas.Data;
        for (int d = 0; d < indices.Length; d++)
        {
            var pixels = images.Item(indices[d]);
            for (int y = 0; y < 28; y++)
            {
                for (int x = 0; x < 28; x++)
                {
                    data[canvas.Offset(n, 0, y, d * 28 + x)] = pixels[y * 28 + x] * PixelScale;
                }
            }
        }
    }

    // prob: (N, 10, 1, 1) → the most likely class of each item.
    private static int[] ArgMax(Blob prob) => Enumerable.Range(0, prob.Num).Select(n => ArgMaxMap(prob, n)[0]).ToArray();

    // prob: (N, 10, H, W) → for item n, the most likely class at each of the H·W positions (row-major).
    private static int[] ArgMaxMap(Blob prob, int n)
    {
        var data = prob.Data;
        var map = new int[prob.Height * prob.Width];
        for (int h = 0; h < prob.Height; h++)
        {
            for (int w = 0; w < prob.Width; w++)
            {
                int best = 0;
                for (int c = 1; c < prob.Channels; c++)
                {
                    if (data[prob.Offset(n, c, h, w)] > data[prob.Offset(n, best, h, w)])
                    {
                        best = c;
                    }
                }
                map[h * prob.Width + w] = best;
            }
        }
        return map;
    }

    private static int ParamCount(Net net, params string[] layers) => layers.Sum(l => net.Params[l].Sum(b => b.Count));

    private static string Shape(Blob blob) => "(" + string.Join(", ", blob.Shape) + ")";

    private static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }

    // A fresh LMDB each run: the writer refuses to overwrite an existing database.
    private static void Convert(string mnist, string split, string db, int digits)
    {
        if (Directory.Exists(db))
        {
            Directory.Delete(db, recursive: true);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(db)!);
        MnistConverter.Convert(Path.Combine(mnist, $"{split}-images-idx3-ubyte.gz"), Path.Combine(mnist, $"{split}-labels-idx1-ubyte.gz"), db, maxItems: digits);
    }

    // Paths inside the repository print relative to its root, as the README's commands use them.
    private static string Display(string root, string path)
    {
        string relative = Path.GetRelativePath(root, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    // "I1127 06:45:52.267507 15299 solver.cs:264] Iteration 100, loss = 0.17" → "Iteration 100, loss = 0.17"
    private static string Message(string line) => line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..];

    private static string FindRepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Crema.slnx")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new DirectoryNotFoundException("Run from inside the Crema repository (Crema.slnx not found above the working folder).");
    }
}
