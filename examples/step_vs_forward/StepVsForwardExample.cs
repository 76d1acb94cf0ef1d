using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Examples.StepVsForward;

/// <summary>
/// What <c>solver.Step(1)</c> does that <c>solver.Net.Forward()</c> does not, shown on LeNet and the bundled MNIST digits;
/// and that the solver's train net, its test net and the layer objects you grab are the ones training uses.
/// </summary>
public static class StepVsForwardExample
{
    public sealed record Options
    {
        /// <summary>Repository root (holds data/mnist-10k and examples/); found from the working folder when null.</summary>
        public string? RepoRoot { get; init; }

        /// <summary>Where the LMDBs go; examples/step_vs_forward/out when null.</summary>
        public string? WorkDir { get; init; }

        public int TrainDigits { get; init; } = 2000;

        public int TestDigits { get; init; } = 500;
    }

    /// <summary>The facts the example prints, for tests.</summary>
    public sealed record Result(
        float[] ForwardLosses,
        int[] BatchStarts,
        bool WeightsIdenticalAfterForward,
        int IterationAfterForward,
        int IterationAfterStep,
        float StepLoss,
        int Conv1WeightsChangedByStep,
        int Conv1WeightCount,
        bool TestNetSharesMemory,
        float ValueReadThroughTestNet,
        int SharedParamBlobs,
        int ParamBlobs,
        float LossWithZeroedIp2,
        bool Ip2ObjectUpdatedByStep,
        IReadOnlyList<string> StepLogLines);

    public static Result Run(Options o, TextWriter output)
    {
        string root = o.RepoRoot ?? FindRepoRoot();
        string work = o.WorkDir ?? Path.Combine(root, "examples", "step_vs_forward", "out");
        string mnist = Path.Combine(root, "data", "mnist-10k");
        string trainDb = Path.Combine(work, "mnist_train_lmdb");
        string testDb = Path.Combine(work, "mnist_test_lmdb");
        Convert(mnist, "train", trainDb, o.TrainDigits);
        Convert(mnist, "test", testDb, o.TestDigits);
        byte[] trainLabels = IdxFile.Read(Path.Combine(mnist, "train-labels-idx1-ubyte.gz"), o.TrainDigits).Data;
        output.WriteLine($"Converted {o.TrainDigits} training and {o.TestDigits} test digits to LMDBs in {Display(root, work)}");

        // The solver file names the net file; we keep the net as written and only point its Data layers at our LMDBs.
        var solverParam = ProtoFiles.ReadSolver(Path.Combine(root, "examples", "step_vs_forward", "solver.prototxt"));
        var netParam = ProtoFiles.ReadNetText(Path.Combine(root, solverParam.Net));
        foreach (var layer in netParam.Layer.Where(l => l.Type == "Data"))
        {
            bool test = layer.Include.Any(rule => rule.Phase == Phase.Test);
            layer.DataParam.Source = test ? testDb : trainDb;
        }
        solverParam.ClearNet();
        solverParam.NetParam = netParam;

        // Crema logs like Caffe (glog lines on stderr); we collect them and show only the lines Step writes.
        var log = new List<string>();
        using var capture = Log.Capture(log);
        using var solver = SolverFactory.Create(solverParam);
        var net = solver.Net;
        int batchSize = net.Blob("data").Num;
        output.WriteLine($"{solver.Type} solver over '{net.Name}': train net {net.Layers.Count} layers, test net #0 {solver.TestNets[0].Layers.Count} layers, batch {batchSize}");
        output.WriteLine();

        // --- 1. Forward: outputs only -------------------------------------------------------------------------------
        output.WriteLine("1. solver.Net.Forward() computes outputs, nothing else");
        var conv1Weights = net.Params["conv1"][0];
        float[] before = conv1Weights.Data.ToArray();
        int iterationBefore = solver.Iteration;
        var forwardLosses = new float[2];
        var batchStarts = new List<int>();
        for (int i = 0; i < 2; i++)
        {
            forwardLosses[i] = net.Forward();
            int start = BatchStart(net.Blob("label").Data, trainLabels);
            batchStarts.Add(start);
            output.WriteLine($"   Forward #{i + 1}: loss = {Log.Num(forwardLosses[i])}, labels {Labels(net.Blob("label").Data)} = training digits {Range(start, batchSize)}");
        }
        bool identical = conv1Weights.Data.SequenceEqual(before);
        output.WriteLine($"   conv1 weights bit-identical after both: {identical} ({before.Length} values compared)");
        output.WriteLine($"   solver.Iteration: {iterationBefore} before, {solver.Iteration} after");
        output.WriteLine("   Each Forward pulled the next batch from the Data layer: forwarding 'just to look' moves the data cursor.");
        output.WriteLine();

        // --- 2. Step: forward, backward, update -----------------------------------------------------------------------
        output.WriteLine("2. solver.Step(1) runs forward, backward and the SGD update");
        float stepLoss = float.NaN;
        solver.IterationCompleted += (_, loss) => stepLoss = loss;
        before = conv1Weights.Data.ToArray();
        log.Clear();
        solver.Step(1);
        float firstStepLoss = stepLoss;
        int iterationAfterStep = solver.Iteration;
        var stepLines = log.Select(Message).Where(m => m.StartsWith("Iteration", StringComparison.Ordinal) || m.Contains("net output", StringComparison.Ordinal)).ToList();
        foreach (string line in stepLines)
        {
            output.WriteLine($"   log: {line}");
        }
        int stepStart = BatchStart(net.Blob("label").Data, trainLabels);
        batchStarts.Add(stepStart);
        int changed = CountChanged(before, conv1Weights.Data);
        output.WriteLine($"   loss of the iteration (IterationCompleted event) = {Log.Num(stepLoss)}; its batch was training digits {Range(stepStart, batchSize)}");
        output.WriteLine($"   conv1 weights changed: {changed} of {before.Length}, largest change {Log.Num(MaxAbsDifference(before, conv1Weights.Data))}");
        output.WriteLine($"   solver.Iteration: {iterationBefore} before, {iterationAfterStep} after");
        output.WriteLine();

        // --- 3. The test net shares the train net's weights -----------------------------------------------------------
        output.WriteLine("3. solver.TestNets[0] uses the very same weight memory as solver.Net");
        var testNet = solver.TestNets[0];
        var trainBlob = net.Params["conv1"][0];
        var testBlob = testNet.Params["conv1"][0];
        bool sameMemory = Unsafe.AreSame(ref MemoryMarshal.GetReference(trainBlob.Data), ref MemoryMarshal.GetReference(testBlob.Data));
        output.WriteLine($"   conv1 weights: one Blob object per net (distinct: {!ReferenceEquals(trainBlob, testBlob)}), Data at the same address: {sameMemory}");
        float saved = trainBlob.Data[0];
        trainBlob.Data[0] = 42f;
        float readBack = testBlob.Data[0];
        trainBlob.Data[0] = saved;
        output.WriteLine($"   wrote 42 to solver.Net.Params[\"conv1\"][0].Data[0]; solver.TestNets[0].Params[\"conv1\"][0].Data[0] reads {Log.Num(readBack)}");
        var (shared, total) = CountSharedParams(net, testNet);
        output.WriteLine($"   learnable blobs sharing memory: {shared} of {total} (so a test after Step scores the updated weights, with no copy)");
        output.WriteLine();

        // --- 4. Layer objects: no hidden copies ----------------------------------------------------------------------
        output.WriteLine("4. A layer object taken from solver.Net is the one Step runs");
        var ip2 = net.Layer("ip2");
        foreach (var blob in ip2.Blobs)
        {
            blob.Data.Clear();
        }
        output.WriteLine("   ip2 = solver.Net.Layer(\"ip2\"); zeroed ip2.Blobs[0] (weights) and ip2.Blobs[1] (bias) through it");
        solver.Step(1);
        float zeroedLoss = stepLoss;
        output.WriteLine($"   next Step(1): loss = {Log.Num(zeroedLoss)} (ln 10 = {Log.Num(Math.Log(10))}: zero logits make all ten digits equally likely, so Step saw our change)");
        bool updated = ip2.Blobs[0].Data.ContainsAnyExcept(0f);
        output.WriteLine($"   after it, the same ip2.Blobs[0] object is non-zero again: {updated} (largest |w| = {Log.Num(MaxAbs(ip2.Blobs[0].Data))})");
        output.WriteLine();
        output.WriteLine($"pycaffe: solver.step(1) = solver.Step(1); solver.net.forward() = solver.Net.Forward(); solver.test_nets[0] = solver.TestNets[0]; solver.iter = solver.Iteration");

        return new Result(forwardLosses, [.. batchStarts], identical, iterationBefore, iterationAfterStep, firstStepLoss,
            changed, before.Length, sameMemory, readBack, shared, total, zeroedLoss, updated, stepLines);
    }

    // Where in the training file a batch starts: the label sequence tells us which digits the Data layer delivered.
    private static int BatchStart(ReadOnlySpan<float> labels, byte[] all)
    {
        for (int start = 0; start < all.Length; start++)
        {
            bool match = true;
            for (int i = 0; i < labels.Length && match; i++)
            {
                match = all[(start + i) % all.Length] == labels[i];
            }
            if (match)
            {
                return start;
            }
        }
        return -1;
    }

    private static string Labels(ReadOnlySpan<float> labels) =>
        string.Join(' ', labels[..8].ToArray().Select(l => ((int)l).ToString(CultureInfo.InvariantCulture))) + " …";

    private static string Range(int start, int count) => $"{start}–{start + count - 1}";

    private static int CountChanged(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = 0;
        for (int i = 0; i < a.Length; i++)
        {
            n += a[i] != b[i] ? 1 : 0;
        }
        return n;
    }

    private static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }

    private static float MaxAbs(ReadOnlySpan<float> a) => Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(a));

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

    private static (int Shared, int Total) CountSharedParams(Net train, Net test)
    {
        int shared = 0, total = 0;
        foreach (var (layer, blobs) in train.Params)
        {
            for (int i = 0; i < blobs.Count; i++)
            {
                total++;
                if (test.HasLayer(layer) && Unsafe.AreSame(ref MemoryMarshal.GetReference(blobs[i].Data), ref MemoryMarshal.GetReference(test.Params[layer][i].Data)))
                {
                    shared++;
                }
            }
        }
        return (shared, total);
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
