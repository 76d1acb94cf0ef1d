using System.Diagnostics;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;
using Crema.Tests.Data;
using Crema.Tools;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Crema.Tests.Robustness;

/// <summary>
/// A seeded mutation fuzzer over every binary and text reader: valid seed files are mutated (bit flips, interesting
/// integers, inserted/deleted/duplicated ranges, truncation, splicing) and fed to the reader the CLI uses. The only
/// acceptable failure is a <see cref="CremaException"/>; anything else (or a run over 20 s, twice in a row) is a finding. Findings are
/// saved under the temp folder (crema-fuzz-findings/) to replay. CREMA_FUZZ_SECONDS sets the time per target.
/// </summary>
public class ParserFuzzer(ITestOutputHelper output)
{
    internal sealed record Target(string Name, Func<TempDir, byte[][]> Seeds, Action<TempDir, byte[]> Run);

    private static readonly string Models = RepoPaths.Get("tests", "Crema.Tests", "TestData");

    internal static IReadOnlyList<Target> Targets { get; } =
    [
        new("prototxt", _ => [Utf8(BadFiles.Deploy), Utf8(BadFiles.TrainNet), File.ReadAllBytes(RepoPaths.Get("examples", "mnist", "lenet_train_test.prototxt"))], (d, bytes) =>
        {
            var param = PrototxtParser.Parse<NetParameter>(Text(bytes), "fuzz.prototxt");
            if (NetUpgrader.NeedsUpgrade(param))
            {
                param = NetUpgrader.Upgrade(param, "fuzz.prototxt");
            }
            new Net(param, Phase.Test, d.Path).Dispose();
        }),
        new("solver", _ => [Utf8("net_param { " + BadFiles.TrainNet + " }\nbase_lr: 0.1 lr_policy: \"step\" stepsize: 2 gamma: 0.5 max_iter: 2 iter_size: 1 average_loss: 1 display: 0\nsnapshot_after_train: false type: \"Adam\"\n")], (d, bytes) =>
        {
            var param = PrototxtParser.Parse<SolverParameter>(Text(bytes), "fuzz_solver.prototxt");
            NetUpgrader.UpgradeSolver(param, "fuzz_solver.prototxt");
            param.MaxIter = Math.Min(param.MaxIter, 2);
            param.ClearSnapshot();
            param.SnapshotAfterTrain = false;
            using var solver = SolverFactory.Create(param, d.Path);
            solver.Solve();
        }),
        new("caffemodel", _ => [BadFiles.Weights(BadFiles.Deploy).ToByteArray()], (d, bytes) =>
        {
            string path = d.Combine("fuzz.caffemodel");
            File.WriteAllBytes(path, bytes);
            using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "deploy.prototxt"), Phase.Test);
            net.CopyTrainedLayersFrom(path);
            net.Forward();
        }),
        new("lenet_caffemodel", _ => [File.ReadAllBytes(Path.Combine(Models, "caffemodels", "lenet_iter_10000.caffemodel"))], (d, bytes) =>
        {
            string path = d.Combine("fuzz.caffemodel");
            File.WriteAllBytes(path, bytes);
            using var net = new Net(ProtoFiles.ReadNetText(RepoPaths.Get("examples", "mnist", "lenet.prototxt")), Phase.Test);
            net.CopyTrainedLayersFrom(path);
        }),
        new("solverstate", SolverStateSeeds, (d, bytes) =>
        {
            string path = d.Combine("fuzz.solverstate");
            File.WriteAllBytes(path, bytes);
            using var solver = SolverFactory.Create(PrototxtParser.Parse<SolverParameter>(FuzzSolver(d), "s.prototxt"), d.Path);
            solver.Restore(path);
        }),
        new("binaryproto", _ => [new BlobProto { Shape = new BlobShape { Dim = { 1, 3, 5, 6 } }, Data = { Enumerable.Range(0, 90).Select(i => (float)i) } }.ToByteArray(),
            new BlobProto { Num = 1, Channels = 3, Height = 5, Width = 6, Data = { new float[90] } }.ToByteArray()], (d, bytes) =>
        {
            string path = d.Combine("mean.binaryproto");
            File.WriteAllBytes(path, bytes);
            var transformer = new DataTransformer(new TransformationParameter { MeanFile = path }, Phase.Test);
            var datum = new Datum { Channels = 3, Height = 5, Width = 6, Data = ByteString.CopyFrom(new byte[90]) };
            transformer.Transform(datum, new float[90]);
        }),
        new("idx", _ => [BadFiles.IdxImages(6, 5, 4), BadFiles.IdxLabels(9), BadFiles.IdxImages(6, 5, 4, gzip: true), BadFiles.Gzip(BadFiles.IdxLabels(9))], (d, bytes) =>
        {
            string path = d.Combine("fuzz-idx");
            File.WriteAllBytes(path, bytes);
            var idx = IdxFile.Read(path);
            for (int i = 0; i < idx.Count; i++)
            {
                _ = idx.Item(i).Length;
            }
        }),
        new("lmdb", LmdbSeeds, (d, bytes) =>
        {
            string db = d.Combine("fuzzdb");
            Directory.CreateDirectory(db);
            File.WriteAllBytes(Path.Combine(db, "data.mdb"), bytes);
            using var read = LmdbDatabase.OpenRead(db);
            using var cursor = read.OpenCursor();
            var transformer = new DataTransformer(new TransformationParameter(), Phase.Test);
            for (int n = 0; cursor.IsValid && n < 10_000; n++)
            {
                Datum datum;
                try
                {
                    datum = Datum.Parser.ParseFrom(cursor.Value);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new CremaException($"record {cursor.KeyString} is not a Datum: {e.Message}", e);
                }
                var shape = transformer.InferShape(datum);
                transformer.Transform(datum, new float[shape.Aggregate(1L, (a, b) => a * b)]);
                cursor.MoveNext();
            }
        }),
        new("image", _ => [BadFiles.Png(9, 7), BadFiles.Jpg(16, 12), File.ReadAllBytes(Path.Combine(Models, "images", "cat_gray.jpg")), BadFiles.PngHeader(3, 3)], (d, bytes) =>
        {
            var image = ImageDecoder.Decode(bytes, source: "fuzz-image");
            _ = ImageDecoder.Decode(bytes, 5, 4, gray: true, source: "fuzz-image").Data.Length + image.Data.Length;
        }),
        new("hdf5", Hdf5Seeds, (d, bytes) =>
        {
            string path = d.Combine("fuzz.h5");
            File.WriteAllBytes(path, bytes);
            _ = Hdf5Datasets.ReadFloats(path, "data").Values.Length;
            _ = Hdf5Datasets.ReadFloats(path, "label").Values.Length;
        }),
        new("hdf5_weights", Hdf5WeightSeeds, (d, bytes) =>
        {
            string path = d.Combine("fuzz.caffemodel.h5");
            File.WriteAllBytes(path, bytes);
            using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "deploy.prototxt"), Phase.Test);
            net.CopyTrainedLayersFrom(path);
        }),
        new("npy", NpySeeds, (d, bytes) =>
        {
            string path = d.Combine("fuzz.npy");
            File.WriteAllBytes(path, bytes);
            _ = NpyFile.Read(path).Data.Length;
        }),
    ];

    private static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    private static string FuzzSolver(TempDir d) => "net_param { " + BadFiles.TrainNet + " }\nbase_lr: 0.1 lr_policy: \"fixed\" momentum: 0.9 max_iter: 2 snapshot_after_train: false\n";

    private static byte[][] SolverStateSeeds(TempDir d)
    {
        var param = PrototxtParser.Parse<SolverParameter>(FuzzSolver(d) + $"snapshot_prefix: \"{d.Combine("seed")}\"", "s.prototxt");
        using var solver = SolverFactory.Create(param, d.Path);
        solver.Step(1);
        solver.Snapshot();
        return [File.ReadAllBytes(d.Combine("seed_iter_1.solverstate"))];
    }

    private static byte[][] LmdbSeeds(TempDir d)
    {
        BadFiles.Lmdb(d.Combine("seed1"), n: 40, bigEvery: 13);
        BadFiles.Lmdb(d.Combine("seed2"), n: 400);
        return [File.ReadAllBytes(Path.Combine(d.Combine("seed1"), "data.mdb")), File.ReadAllBytes(Path.Combine(d.Combine("seed2"), "data.mdb"))];
    }

    private static byte[][] Hdf5WeightSeeds(TempDir d)
    {
        using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "deploy.prototxt"), Phase.Test);
        net.SaveHdf5(d.Combine("seed.caffemodel.h5"));
        // Soft links within the weights (sound ones: mutations of their values make self-links and cycles) and an
        // old-style libhdf5 file (symbol tables, local heap) with one soft link.
        var file = new PureHDF.H5File { ["data"] = new PureHDF.H5Group { ["conv"] = new PureHDF.H5SoftLink("/w/conv"), ["ip"] = new PureHDF.H5SoftLink("../w/ip") } };
        file["w"] = new PureHDF.H5Group { ["conv"] = new PureHDF.H5Group { ["0"] = new PureHDF.H5Dataset(new float[8], fileDims: [2, 1, 2, 2]) }, ["ip"] = new PureHDF.H5SoftLink("conv") };
        file.Write(d.Combine("links.caffemodel.h5"));
        return [File.ReadAllBytes(d.Combine("seed.caffemodel.h5")), File.ReadAllBytes(d.Combine("links.caffemodel.h5")), Hdf5LinkGuardTests.OldStyleWithSoftLinks(("label", "data"))];
    }

    private static byte[][] Hdf5Seeds(TempDir d)
    {
        Hdf5LinkGuardTests.WriteChain(d.Combine("chain.h5"), 4);
        return [File.ReadAllBytes(Path.Combine(Models, "hdf5", "sample_data.h5")), File.ReadAllBytes(Path.Combine(Models, "hdf5", "sample_data_2_gzip.h5")),
            File.ReadAllBytes(d.Combine("chain.h5")), Hdf5LinkGuardTests.OldStyleWithSoftLinks(("label", "data")),
            File.ReadAllBytes(Path.Combine(Models, "hdf5", "chunked_many.h5")), File.ReadAllBytes(Path.Combine(Models, "hdf5", "dense_links_latest.h5"))];
    }

    private static byte[][] NpySeeds(TempDir d)
    {
        NpyFile.Write(d.Combine("seed.npy"), [2, 3, 4], Enumerable.Range(0, 24).Select(i => (float)i).ToArray());
        return [File.ReadAllBytes(d.Combine("seed.npy"))];
    }

    private static readonly int[] Interesting = [0, 1, -1, 2, 127, 128, 255, 256, 4096, 65535, 65536, int.MaxValue, int.MinValue, 0x40000000, 46000];

    /// <summary>One random mutation of <paramref name="seed"/> (or a splice with <paramref name="other"/>), a few stacked.</summary>
    internal static byte[] Mutate(byte[] seed, byte[] other, Random rng)
    {
        var data = new List<byte>(seed);
        int rounds = 1 + rng.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            int n = data.Count;
            int at = n == 0 ? 0 : rng.Next(n);
            switch (rng.Next(10))
            {
                case 0 when n > 0:
                    data[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when n > 0:
                    data[at] = (byte)Interesting[rng.Next(Interesting.Length)];
                    break;
                case 2 when n >= 4:
                    {
                        at = Math.Min(at, n - 4);
                        var word = BitConverter.GetBytes(Interesting[rng.Next(Interesting.Length)]);
                        if (rng.Next(2) == 0)
                        {
                            Array.Reverse(word);
                        }
                        for (int i = 0; i < 4; i++)
                        {
                            data[at + i] = word[i];
                        }
                        break;
                    }
                case 3:
                    data.InsertRange(at, Enumerable.Range(0, 1 + rng.Next(16)).Select(_ => (byte)rng.Next(256)));
                    break;
                case 4 when n > 1:
                    data.RemoveRange(at, Math.Min(n - at, 1 + rng.Next(Math.Max(1, n / 8))));
                    break;
                case 5 when n > 1:
                    {
                        int len = Math.Min(n - at, 1 + rng.Next(64));
                        data.InsertRange(rng.Next(n), data.GetRange(at, len));
                        break;
                    }
                case 6 when n > 1:
                    data.RemoveRange(at, n - at);
                    break;
                case 7 when other.Length > 1:
                    {
                        int from = rng.Next(other.Length);
                        data.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + rng.Next(128))).ToArray());
                        break;
                    }
                case 8 when n > 64:
                    {
                        // page/record headers: the first bytes of a 4 KiB-aligned block
                        int page = rng.Next(Math.Max(1, n / 4096)) * 4096;
                        int pos = Math.Min(n - 1, page + rng.Next(64));
                        data[pos] = (byte)rng.Next(256);
                        break;
                    }
                default:
                    if (n > 0)
                    {
                        // text-ish: replace a byte with a structural character
                        data[at] = (byte)"{}:\"<>[],-.0123456789eE \n#\\"[rng.Next(27)];
                    }
                    break;
            }
        }
        return [.. data];
    }

    internal sealed record Finding(string Target, int Iteration, string Kind, string Message, string File);

    /// <summary>Runs <paramref name="target"/> for <paramref name="budget"/>; returns (inputs run, findings).</summary>
    internal static (int Runs, List<Finding> Findings) Fuzz(Target target, TimeSpan budget, int seed)
    {
        using var dir = new TempDir();
        var seeds = target.Seeds(dir);
        var rng = new Random(seed);
        var findings = new List<Finding>();
        var watch = Stopwatch.StartNew();
        int runs = 0;
        using (MemoryGuard.UseLimit(FloatBuffer.LiveBytes + (512L << 20)))
        using (Log.Capture([]))
        {
            while (watch.Elapsed < budget)
            {
                byte[] input = Mutate(seeds[rng.Next(seeds.Length)], seeds[rng.Next(seeds.Length)], rng);
                using var work = new TempDir();
                var (kind, message, took) = RunOne(target, work, input);
                if (kind == null && took > SlowLimit)
                {
                    // Wall time on a shared machine can stall; a slow input counts only if it is slow again.
                    using var again = new TempDir();
                    var (_, _, retook) = RunOne(target, again, input);
                    if (retook > SlowLimit)
                    {
                        (kind, message) = ("Slow", $"took {took.TotalSeconds:F1} s, then {retook.TotalSeconds:F1} s");
                    }
                }
                if (kind != null)
                {
                    string folder = Path.Combine(Path.GetTempPath(), "crema-fuzz-findings");
                    Directory.CreateDirectory(folder);
                    string file = Path.Combine(folder, $"{target.Name}-{seed}-{runs}.bin");
                    File.WriteAllBytes(file, input);
                    findings.Add(new Finding(target.Name, runs, kind, message, file));
                }
                runs++;
            }
        }
        return (runs, findings);
    }

    private static readonly TimeSpan SlowLimit = TimeSpan.FromSeconds(20);

    private static (string? Kind, string Message, TimeSpan Took) RunOne(Target target, TempDir work, byte[] input)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            target.Run(work, input);
        }
        catch (CremaException)
        {
            // the one acceptable failure
        }
        catch (Exception e)
        {
            return (e.GetType().Name, e.Message + " @ " + e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("Crema.", StringComparison.Ordinal))?.Trim(), watch.Elapsed);
        }
        return (null, "", watch.Elapsed);
    }

    public static TheoryData<string> TargetNames() => [.. Targets.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void Smoke_EveryReaderSurvivesAFewSecondsOfMutations(string name) => RunTarget(name, TimeSpan.FromSeconds(0.4), seed: 1701);

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(TargetNames))]
    public void Long_EveryReaderSurvivesMutations(string name)
    {
        // Random seeds find new inputs but are not repeatable, so the long run happens only when asked for.
        if (!double.TryParse(Environment.GetEnvironmentVariable("CREMA_FUZZ_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double seconds))
        {
            output.WriteLine("set CREMA_FUZZ_SECONDS to fuzz each target for that long");
            return;
        }
        RunTarget(name, TimeSpan.FromSeconds(seconds), seed: Environment.TickCount);
    }

    /// <summary>Replays one saved input: CREMA_FUZZ_REPLAY=target:/path/to/input.bin (skipped when unset).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Replay()
    {
        string? spec = Environment.GetEnvironmentVariable("CREMA_FUZZ_REPLAY");
        if (string.IsNullOrEmpty(spec))
        {
            return;
        }
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        var target = Targets.Single(t => t.Name == spec[..colon]);
        using var dir = new TempDir();
        var watch = Stopwatch.StartNew();
        try
        {
            target.Run(dir, File.ReadAllBytes(spec[(colon + 1)..]));
            output.WriteLine($"accepted in {watch.Elapsed}");
        }
        catch (CremaException e)
        {
            output.WriteLine($"CremaException in {watch.Elapsed}: {e.Message}");
        }
    }

    private void RunTarget(string name, TimeSpan budget, int seed)
    {
        var target = Targets.Single(t => t.Name == name);
        var (runs, findings) = Fuzz(target, budget, seed);
        output.WriteLine($"{name}: {runs} inputs in {budget.TotalSeconds} s (seed {seed}), {findings.Count} findings");
        foreach (var f in findings.Take(20))
        {
            output.WriteLine($"  #{f.Iteration} {f.Kind}: {f.Message} ({f.File})");
        }
        Assert.True(runs > 0);
        if (findings.Count > 0)
        {
            Assert.Fail($"{findings.Count} findings in {name}, first: {findings[0].Kind}: {findings[0].Message} ({findings[0].File})");
        }
    }
}
