using System.Diagnostics;
using System.Globalization;
using Crema.Data;
using Crema.Kernels;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;
using Crema.Tools;

namespace Crema.Examples;

/// <summary>
/// Features from the last layers of a trained net: LeNet's ip1 on MNIST (with a nearest-neighbour classifier on them),
/// SqueezeNet v1.0 classifying two photos and giving its pooled features, and CaffeNet's fc7 through the same code.
/// </summary>
public static class FeatureExtraction
{
    /// <summary>Caffe's ImageNet BGR mean, subtracted from every pixel before SqueezeNet and CaffeNet.</summary>
    public static readonly float[] MeanBgr = [104, 117, 123];

    /// <summary>ImageNet classes 281–285: tabby, tiger cat, Persian, Siamese, Egyptian cat.</summary>
    public static readonly int[] CatClasses = [281, 282, 283, 284, 285];

    /// <param name="RepoRoot">The repository (holds data/mnist-10k and examples/).</param>
    /// <param name="OutDirectory">Where weights, LMDBs of this run and .npy files go (default examples/feature_extraction/out).</param>
    /// <param name="LeNetWeights">A LeNet .caffemodel to use instead of looking for one or training.</param>
    /// <param name="TrainIterations">LeNet training iterations when no weights are found.</param>
    /// <param name="MnistDbDirectory">Where the MNIST LMDBs are (made if missing); default examples/mnist, as train_lenet.sh.</param>
    public sealed record Options(string RepoRoot, string? OutDirectory = null, string? LeNetWeights = null, int TrainIterations = 500, string? MnistDbDirectory = null)
    {
        public string ExampleDirectory => Path.Combine(RepoRoot, "examples", "feature_extraction");

        public string Out => OutDirectory ?? Path.Combine(ExampleDirectory, "out");

        public string MnistDbs => MnistDbDirectory ?? Path.Combine(RepoRoot, "examples", "mnist");
    }

    /// <summary>LeNet's part: shapes, and the accuracy of the net itself and of 1-NN on its ip1 features.</summary>
    public sealed record LeNetResult(string Weights, int[] TestShape, int[] TrainShape, double NetAccuracy, double NearestNeighbourAccuracy, double NearestNeighbourBeforeReluAccuracy, double? MaxDifferenceFromVerb);

    /// <summary>One image's top classes (index, probability) and the shapes of the feature blobs.</summary>
    public sealed record Classification(string Image, (int Class, float Probability)[] Top5);

    public static void Run(Options options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        Directory.CreateDirectory(options.Out);
        var timer = Stopwatch.StartNew();
        output.WriteLine("== (a) LeNet on MNIST: ip1 features (500-d) ==");
        LeNet(options, output);
        output.WriteLine();
        output.WriteLine("== (b) SqueezeNet v1.0 (ImageNet): classify two photos, extract pooled features ==");
        SqueezeNet(options, output);
        output.WriteLine();
        output.WriteLine("== (c) CaffeNet deploy.prototxt, untrained: fc7 (4096-d) ==");
        CaffeNet(options, output);
        output.WriteLine();
        output.WriteLine($"Done in {timer.Elapsed.TotalSeconds:F0} s.");
    }

    // ---------------------------------------------------------------- (a) LeNet

    public static LeNetResult LeNet(Options options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        Directory.CreateDirectory(options.Out);
        using var quiet = Log.Capture([]); // the nets' set-up logs (Caffe's glog lines) would drown the results
        string trainDb = EnsureMnistDb(options, "train");
        string testDb = EnsureMnistDb(options, "test");
        string model = Path.Combine(options.RepoRoot, "examples", "mnist", "lenet_train_test.prototxt");
        string weights = options.LeNetWeights ?? FindLeNetWeights(options) ?? TrainLeNet(options, model, trainDb, output);
        output.WriteLine($"Weights: {Relative(options, weights)}");

        // The TEST-phase net reads 100 digits per forward; 20 forwards cover the 2,000 bundled test digits.
        using var testNet = new Net(WithSource(model, testDb), Phase.Test);
        testNet.CopyTrainedLayersFrom(weights);
        const int batches = 20;
        int batch = testNet.Blob("data").Num;
        var ip1 = new List<float>();
        var ip1BeforeRelu = new List<float>();
        var testLabels = new List<float>();
        double accuracy = 0;
        for (int b = 0; b < batches; b++)
        {
            // Stop after layer ip1: the blob holds ip1 = W·pool2 + b. relu1 then works in place on the same blob,
            // so to keep the value before the ReLU, copy it now.
            testNet.Forward(end: "ip1");
            ip1BeforeRelu.AddRange(testNet.Blob("ip1").Data.ToArray());
            // Go on from relu1 to the end with the same batch: ip1 is now max(0, ·), what the verb extracts.
            testNet.Forward(start: "relu1");
            ip1.AddRange(testNet.Blob("ip1").Data.ToArray());
            testLabels.AddRange(testNet.Blob("label").Data.ToArray());
            accuracy += testNet.Blob("accuracy").Data[0] / batches;
        }
        int dim = testNet.Blob("ip1").Count / batch;
        int[] testShape = [batch * batches, dim];
        NpyFile.Write(Path.Combine(options.Out, "ip1_test_api.npy"), testShape, ip1.ToArray());
        NpyFile.Write(Path.Combine(options.Out, "ip1_test_before_relu.npy"), testShape, ip1BeforeRelu.ToArray());
        NpyFile.Write(Path.Combine(options.Out, "labels_test.npy"), [testLabels.Count], testLabels.ToArray());
        output.WriteLine($"C# API: net.Forward(end: \"ip1\"), net.Blob(\"ip1\") -> out/ip1_test_api.npy ({Shape(testShape)}) and out/ip1_test_before_relu.npy");

        // The training digits as the nearest-neighbour classifier's memory: the same net definition pointed at the
        // training LMDB, features extracted with the library's FeatureExtractor (the verb's code).
        using var trainNet = new Net(WithSource(model, trainDb), Phase.Test);
        trainNet.CopyTrainedLayersFrom(weights);
        int trainCount = MnistCount(options, "train");
        var train = FeatureExtractor.Extract(trainNet, ["ip1", "label"], trainCount / batch);
        NpyFile.Write(Path.Combine(options.Out, "ip1_train.npy"), train[0].Shape, train[0].Data);
        NpyFile.Write(Path.Combine(options.Out, "labels_train.npy"), [train[1].Data.Length], train[1].Data);
        output.WriteLine($"FeatureExtractor.Extract(net, [\"ip1\", \"label\"], {trainCount / batch}) on the training digits -> out/ip1_train.npy ({Shape(train[0].Shape)})");

        double nn = NearestNeighbourAccuracy(train[0].Data, train[1].Data, ip1.ToArray(), testLabels.ToArray(), dim);
        // The gallery before the ReLU, for the comparison: run the training digits again, stopping at ip1.
        var trainBeforeRelu = new float[train[0].Data.Length];
        using (var again = new Net(WithSource(model, trainDb), Phase.Test))
        {
            again.CopyTrainedLayersFrom(weights);
            for (int b = 0; b < trainCount / batch; b++)
            {
                again.Forward(end: "ip1");
                again.Blob("ip1").Data.CopyTo(trainBeforeRelu.AsSpan(b * batch * dim));
            }
        }
        double nnBefore = NearestNeighbourAccuracy(trainBeforeRelu, train[1].Data, ip1BeforeRelu.ToArray(), testLabels.ToArray(), dim);

        double? verbDifference = null;
        string verbFile = Path.Combine(options.Out, "ip1.npy");
        string verbCommand = $"./crema extract_features {Relative(options, weights)} examples/mnist/lenet_train_test.prototxt ip1 {Relative(options, verbFile)} {batches} npy";
        if (File.Exists(verbFile))
        {
            var (shape, data) = NpyFile.Read(verbFile);
            if (shape.SequenceEqual(testShape))
            {
                verbDifference = MaxAbsDifference(data, ip1.ToArray());
                output.WriteLine($"The verb's {Relative(options, verbFile)} ({Shape(shape)}) vs the C# API's ip1 after relu1: max |difference| {Num(verbDifference.Value)}");
            }
            else
            {
                output.WriteLine($"{Relative(options, verbFile)} has shape ({Shape(shape)}), not ({Shape(testShape)}): made with other settings, not compared");
            }
        }
        else
        {
            output.WriteLine($"The same features with the verb (from the repository root): {verbCommand}");
        }

        output.WriteLine();
        output.WriteLine($"| classifier on the {testShape[0]:N0} test digits | accuracy |");
        output.WriteLine("|---|---:|");
        output.WriteLine($"| LeNet itself (ip2 + softmax) | {accuracy:P2} |");
        output.WriteLine($"| 1-nearest neighbour on ip1 after ReLU, {train[0].Shape[0]:N0} training digits | {nn:P2} |");
        output.WriteLine($"| 1-nearest neighbour on ip1 before ReLU | {nnBefore:P2} |");
        return new LeNetResult(weights, testShape, train[0].Shape, accuracy, nn, nnBefore, verbDifference);
    }

    /// <summary>Converts data/mnist-10k's IDX files to an LMDB on first use (as examples/mnist/train_lenet.sh), returns its path.</summary>
    public static string EnsureMnistDb(Options options, string split)
    {
        ArgumentNullException.ThrowIfNull(options);
        string db = Path.Combine(options.MnistDbs, $"mnist_{split}_lmdb");
        if (!File.Exists(Path.Combine(db, "data.mdb")))
        {
            string data = Path.Combine(options.RepoRoot, "data", "mnist-10k");
            MnistConverter.Convert(Path.Combine(data, $"{split}-images-idx3-ubyte.gz"), Path.Combine(data, $"{split}-labels-idx1-ubyte.gz"), db);
        }
        return db;
    }

    private static int MnistCount(Options options, string split) =>
        IdxFile.Read(Path.Combine(options.RepoRoot, "data", "mnist-10k", $"{split}-labels-idx1-ubyte.gz")).Count;

    /// <summary>lenet_train_test.prototxt with both Data layers reading <paramref name="source"/> (an absolute path).</summary>
    public static NetParameter WithSource(string model, string source)
    {
        var param = ProtoFiles.ReadNetText(model);
        foreach (var layer in param.Layer.Where(l => l.Type == "Data"))
        {
            layer.DataParam.Source = Path.GetFullPath(source);
        }
        return param;
    }

    // A model the user trained with examples/mnist/train_lenet.sh (the newest), else one an earlier run of this example made.
    private static string? FindLeNetWeights(Options options)
    {
        var dir = new DirectoryInfo(Path.Combine(options.RepoRoot, "examples", "mnist"));
        var user = dir.Exists ? dir.GetFiles("lenet_iter_*.caffemodel").OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault() : null;
        if (user != null)
        {
            return user.FullName;
        }
        string ours = Path.Combine(options.Out, $"lenet_iter_{options.TrainIterations}.caffemodel");
        return File.Exists(ours) ? ours : null;
    }

    private static string TrainLeNet(Options options, string model, string trainDb, TextWriter output)
    {
        // examples/mnist/lenet_solver.prototxt (SGD, lr 0.01, momentum 0.9, "inv" policy), fewer iterations, no test net.
        var param = ProtoFiles.ReadSolver(Path.Combine(options.RepoRoot, "examples", "mnist", "lenet_solver.prototxt"));
        param.ClearNet();
        param.NetParam = WithSource(model, trainDb);
        param.TestIter.Clear();
        param.ClearTestInterval();
        param.MaxIter = options.TrainIterations;
        param.RandomSeed = 1701;
        output.WriteLine($"No LeNet weights found (examples/mnist/lenet_iter_*.caffemodel): training {options.TrainIterations} iterations with lenet_solver.prototxt");
        var timer = Stopwatch.StartNew();
        using var solver = TrainQuietly(param, output);
        string path = Path.Combine(options.Out, $"lenet_iter_{options.TrainIterations}.caffemodel");
        solver.Net.Save(path);
        output.WriteLine($"Trained in {timer.Elapsed.TotalSeconds:F0} s, saved {Relative(options, path)}");
        return path;
    }

    private static Solver TrainQuietly(SolverParameter param, TextWriter output)
    {
        var solver = SolverFactory.Create(param);
        solver.IterationCompleted += (s, loss) =>
        {
            if (s.Iteration % 100 == 0 || s.Iteration == param.MaxIter)
            {
                output.WriteLine($"  iteration {s.Iteration}, loss {Num(loss)}");
            }
        };
        solver.Step(param.MaxIter);
        return solver;
    }

    /// <summary>
    /// 1-NN by Euclidean distance: for each query, the label of the closest gallery row. ‖q − g‖² = ‖q‖² − 2 q·g + ‖g‖²;
    /// ‖q‖² is the same for all g, so it suffices to minimise ‖g‖² − 2 q·g, the dot products coming from one Sgemm per block.
    /// </summary>
    public static double NearestNeighbourAccuracy(float[] gallery, float[] galleryLabels, float[] queries, float[] queryLabels, int dim)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(galleryLabels);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(queryLabels);
        int ng = gallery.Length / dim;
        int nq = queries.Length / dim;
        var norms = new float[ng];
        for (int g = 0; g < ng; g++)
        {
            var row = gallery.AsSpan(g * dim, dim);
            norms[g] = System.Numerics.Tensors.TensorPrimitives.Dot(row, row);
        }
        const int block = 250;
        var dots = new float[block * ng];
        int correct = 0;
        for (int q0 = 0; q0 < nq; q0 += block)
        {
            int m = Math.Min(block, nq - q0);
            // dots (m, ng) = queries[q0..q0+m] (m, dim) · galleryᵀ (dim, ng)
            Gemm.Sgemm(false, true, m, ng, dim, 1f, queries.AsSpan(q0 * dim, m * dim), gallery, 0f, dots.AsSpan(0, m * ng));
            for (int i = 0; i < m; i++)
            {
                var row = dots.AsSpan(i * ng, ng);
                int best = 0;
                float bestScore = float.MaxValue;
                for (int g = 0; g < ng; g++)
                {
                    float score = norms[g] - (2 * row[g]);
                    if (score < bestScore)
                    {
                        (best, bestScore) = (g, score);
                    }
                }
                correct += galleryLabels[best] == queryLabels[q0 + i] ? 1 : 0;
            }
        }
        return (double)correct / nq;
    }

    // ---------------------------------------------------------------- (b) SqueezeNet

    public static IReadOnlyList<Classification> SqueezeNet(Options options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        Directory.CreateDirectory(options.Out);
        using var quiet = Log.Capture([]); // the nets' set-up logs (Caffe's glog lines) would drown the results
        string dir = options.ExampleDirectory;
        string[] images = [Path.Combine(dir, "cat.jpg"), Path.Combine(dir, "fish-bike.jpg")];
        string[] labels = File.ReadAllLines(Path.Combine(dir, "synset_words.txt"));
        using var net = new Net(ProtoFiles.ReadNetText(Path.Combine(dir, "SqueezeNet_deploy.prototxt")), Phase.Test);
        net.CopyTrainedLayersFrom(Path.Combine(dir, "squeezenet_v1.0_decoded.caffemodel"));

        // The deploy file declares a 1×3×227×227 input; both photos go in one batch of 2 (every layer reshapes).
        var data = net.Blob("data");
        data.Reshape(images.Length, 3, 227, 227);
        for (int i = 0; i < images.Length; i++)
        {
            Preprocess(images[i], 227, 227, data.Data.Slice(i * 3 * 227 * 227, 3 * 227 * 227));
        }
        net.Forward();

        // The deploy net ends at pool_final, the global average of conv_final's 1000 maps (N, 1000, 1, 1): the class
        // scores before the softmax, which is applied here.
        var scores = net.Blob("pool_final");
        int classes = scores.Count / images.Length;
        var probabilities = new float[scores.Count];
        SoftmaxKernels.Forward(images.Length, classes, 1, scores.Data, probabilities);
        var results = new List<Classification>();
        for (int i = 0; i < images.Length; i++)
        {
            var p = probabilities.AsSpan(i * classes, classes).ToArray();
            var top5 = p.Select((v, c) => (Class: c, Probability: v)).OrderByDescending(t => t.Probability).Take(5).ToArray();
            results.Add(new Classification(Path.GetFileName(images[i]), top5));
            output.WriteLine($"{Path.GetFileName(images[i])}: top-5");
            foreach (var (c, prob) in top5)
            {
                output.WriteLine($"  {prob,7:P2}  {c,3}  {labels[c]}");
            }
        }

        var concat = net.Blob("fire9/concat");
        output.WriteLine($"Features: pool_final ({scores.ShapeString()}) = one 1000-d vector per image; fire9/concat ({concat.ShapeString()}), the last block before the classifier conv.");
        string path = Path.Combine(options.Out, "squeezenet_pool_final.npy");
        NpyFile.Write(path, [images.Length, classes], scores.Data);
        output.WriteLine($"Saved {Relative(options, path)} ({images.Length}, {classes}).");
        return results;
    }

    /// <summary>
    /// Caffe's usual ImageNet preprocessing: decode (ImageDecoder gives BGR, channel-major, as OpenCV), resize to
    /// <paramref name="height"/>×<paramref name="width"/>, keep the 0–255 range, subtract the BGR mean (104, 117, 123).
    /// </summary>
    public static void Preprocess(string imagePath, int height, int width, Span<float> chw)
    {
        var image = ImageDecoder.ReadFile(imagePath, height, width);
        int plane = height * width;
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                chw[(c * plane) + i] = image.Data[(c * plane) + i] - MeanBgr[c];
            }
        }
    }

    // ---------------------------------------------------------------- (c) CaffeNet

    /// <summary>Forwards the cat through CaffeNet with random weights and returns fc7's shape; writes the empty weights file the verb needs.</summary>
    public static int[] CaffeNet(Options options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        Directory.CreateDirectory(options.Out);
        using var quiet = Log.Capture([]); // the nets' set-up logs (Caffe's glog lines) would drown the results
        string deploy = Path.Combine(options.ExampleDirectory, "caffenet_deploy.prototxt");
        using var net = new Net(ProtoFiles.ReadNetText(deploy), Phase.Test);
        // No bvlc_reference_caffenet.caffemodel here (233 MB): random weights. With the real file, call
        // net.CopyTrainedLayersFrom(path) instead and nothing else changes.
        Rng.Seed(1701);
        foreach (var blob in net.LearnableParams)
        {
            Rng.Gaussian(blob.Data, 0, 0.01f);
        }
        var data = net.Blob("data");
        data.Reshape(1, 3, 227, 227);
        Preprocess(Path.Combine(options.ExampleDirectory, "cat.jpg"), 227, 227, data.Data);
        net.Forward(end: "relu7");
        var fc7 = net.Blob("fc7");
        output.WriteLine($"C# API: net.Forward(end: \"relu7\"), net.Blob(\"fc7\"): shape ({fc7.ShapeString()}) for one image");

        // The verb needs a weights file. This one names a single layer with no blobs, so it copies nothing and every
        // layer keeps what its filler gave it (this deploy file names no fillers: zeros). It only shows the command and
        // the shapes.
        string empty = Path.Combine(options.Out, "caffenet_no_weights.caffemodel");
        WeightFiles.Write(new NetParameter { Name = "CaffeNet", Layer = { new LayerParameter { Name = "data", Type = "Input" } } }, empty);
        string verbFile = Path.Combine(options.Out, "fc7.npy");
        output.WriteLine($"The verb (deploy.prototxt's batch of 10): ./crema extract_features {Relative(options, empty)} examples/feature_extraction/caffenet_deploy.prototxt fc7 {Relative(options, verbFile)} 1 npy");
        if (File.Exists(verbFile))
        {
            output.WriteLine($"{Relative(options, verbFile)}, written by the verb: shape ({Shape(NpyFile.Read(verbFile).Shape)})");
        }
        return [.. fc7.Shape];
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The folder above <paramref name="start"/> holding Crema.slnx.</summary>
    public static string FindRepoRoot(string start)
    {
        var dir = new DirectoryInfo(start);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Crema.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new CremaException($"no Crema.slnx above {start}");
    }

    private static string Relative(Options options, string path) => Path.GetRelativePath(options.RepoRoot, path).Replace('\\', '/');

    private static double MaxAbsDifference(float[] a, float[] b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }

    private static string Shape(IEnumerable<int> shape) => string.Join(", ", shape);

    private static string Num(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
