using System.Buffers.Binary;
using Crema.Cli;
using Crema.Data;
using Crema.Layers;
using Crema.Nets;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;
using Crema.Tests.Cli;
using Crema.Tests.Data;
using Google.Protobuf;

namespace Crema.Tests.Robustness;

/// <summary>The concrete faults of issue 10, one test each: every one failed (crash, silent acceptance, lost file) before the fix.</summary>
public class RobustnessTests
{
    private static void Throws<T>(Action action, params string[] expected) where T : Exception
    {
        var e = Assert.Throws<T>(action);
        foreach (string text in expected)
        {
            Assert.Contains(text, e.Message, StringComparison.Ordinal);
        }
    }

    private static void ReadAll(string path)
    {
        using var db = LmdbDatabase.OpenRead(path);
        using var cursor = db.OpenCursor();
        while (cursor.IsValid)
        {
            _ = cursor.Key.Length + cursor.Value.Length;
            cursor.MoveNext();
        }
    }

    [Theory]
    [InlineData(4096)] // both meta pages claim 4 KiB pages; the second is missing (was an AccessViolationException)
    [InlineData(1024)]
    [InlineData(8192 + 100)]
    [InlineData(3 * 4096 + 17)]
    public void Lmdb_Truncated_NamesTheDatabase(int length)
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        BadFiles.Lmdb(path, n: 400, bigEvery: 50);
        using (var f = new FileStream(Path.Combine(path, "data.mdb"), FileMode.Open))
        {
            f.SetLength(length);
        }
        Throws<CremaException>(() => ReadAll(path), path);
    }

    [Fact]
    public void Lmdb_NegativeRecordSize_NamesDatabaseAndKey()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        BadFiles.Lmdb(path, n: 3);
        using (var f = new FileStream(Path.Combine(path, "data.mdb"), FileMode.Open))
        {
            var page = new byte[4096];
            f.Position = 2 * 4096; // the only leaf
            f.ReadExactly(page);
            int node = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(16)); // first node: lo u16, hi u16 = data size
            BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(node + 2), 0x8000);
            f.Position = 2 * 4096;
            f.Write(page);
        }
        Throws<CremaException>(() => ReadAll(path), path, "record '00000000'", "negative size");
    }

    [Fact]
    public void Lmdb_OverflowSizeBeyondFile_NamesKey()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        BadFiles.Lmdb(path, n: 2, bigEvery: 1);
        using (var f = new FileStream(Path.Combine(path, "data.mdb"), FileMode.Open))
        {
            // With one leaf the root is the leaf: meta page 1, main db record, root field.
            var page = new byte[4096];
            f.Position = 4096 + LmdbFormat.PageHeaderSize + LmdbFormat.MetaMainDb + LmdbFormat.DbRoot;
            f.ReadExactly(page.AsSpan(0, 8));
            long leaf = BinaryPrimitives.ReadInt64LittleEndian(page);
            f.Position = leaf * 4096;
            f.ReadExactly(page);
            Assert.True((BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(10)) & LmdbFormat.PageLeaf) != 0);
            int node = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(16));
            BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(node + 2), 0x7000); // ~1.8 GB value
            f.Position = leaf * 4096;
            f.Write(page);
        }
        Throws<CremaException>(() => ReadAll(path), path, "record '00000000'", "past the end");
    }

    [Fact]
    public void Idx_HeaderClaimsMoreThanTheFile_IsTruncatedNotAnAllocation()
    {
        using var dir = new TempDir();
        string raw = dir.Combine("raw-idx3-ubyte");
        File.WriteAllBytes(raw, BadFiles.IdxImages(3, 28, 28, declaredCount: 2_000_000));
        Throws<CremaException>(() => IdxFile.Read(raw), raw, "truncated", "2000000");
        string huge = dir.Combine("huge-idx3-ubyte.gz");
        File.WriteAllBytes(huge, BadFiles.IdxImages(3, 4096, 4096, gzip: true, declaredCount: int.MaxValue));
        Throws<CremaException>(() => IdxFile.Read(huge), huge, "2147483647");
    }

    [Fact]
    public void Idx_GzipWithBadCrc_SaysCorruptNotUnsupported()
    {
        using var dir = new TempDir();
        string path = dir.Combine("bad-crc.gz");
        var gz = BadFiles.Gzip(BadFiles.IdxLabels(100));
        gz[^8] ^= 0xFF; // CRC32 of the trailer
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<CremaException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt gzip", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("unsupported compression", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Datum_HugeDimensions_AreRefusedWithoutOverflow()
    {
        var transformer = new DataTransformer(new TransformationParameter(), Phase.Test);
        var datum = new Datum { Channels = 3, Height = 65536, Width = 65536, Data = ByteString.CopyFrom(new byte[12]) };
        Throws<CremaException>(() => transformer.InferShape(datum), "3×65536×65536");
        Throws<CremaException>(() => transformer.Transform(datum, new float[12]), "3×65536×65536");
        Assert.Equal(12, DataTransformer.DatumCount(new Datum { Channels = 3, Height = 2, Width = 2 }));
    }

    [Theory]
    [InlineData(100_000, 100_000, "100000x100000")]
    [InlineData(0, 0, "0x0")]
    [InlineData(20_000, 20_000, "20000x20000")]
    public void Image_DeclaredSizeIsCheckedBeforeDecoding(int width, int height, string expected)
    {
        using var dir = new TempDir();
        string path = dir.Combine("liar.png");
        File.WriteAllBytes(path, BadFiles.PngHeader(width, height));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.ThrowsAny<CremaException>(() => ImageDecoder.ReadFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        if (width > 0)
        {
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "refused before allocating pixels");
    }

    [Fact]
    public void Image_ResizeBeyondTheCap_IsRefused()
    {
        Throws<CremaException>(() => ImageDecoder.Decode(BadFiles.Png(), 60000, 60000, source: "x.png"), "x.png", "60000x60000");
        Assert.Equal(40, ImageDecoder.Decode(BadFiles.Png(), 40, 30, source: "x.png").Height);
    }

    [Fact]
    public void ConvertImageset_FailingHalfway_RemovesItsDatabase()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("a.png"), BadFiles.Png(6, 5));
        File.WriteAllBytes(dir.Combine("b.png"), BadFiles.Png(7, 5));
        File.WriteAllText(dir.Combine("list.txt"), "a.png 0\nb.png 1\n");
        var e = Assert.Throws<CremaException>(() => Crema.Tools.ImagesetConverter.Convert(dir.Path + "/", dir.Combine("list.txt"), dir.Combine("db"),
            new Crema.Tools.ImagesetOptions { CheckSize = true }));
        Assert.Contains("b.png", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.Combine("db")), "the half-written database must be removed");
    }

    [Fact]
    public void ConvertMnist_FailingHalfway_RemovesItsDatabase()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("images"), BadFiles.IdxImages(1500, 4, 4));
        File.WriteAllBytes(dir.Combine("labels"), BadFiles.IdxLabels(1500));
        Assert.Throws<InvalidOperationException>(() => MnistConverter.Convert(dir.Combine("images"), dir.Combine("labels"), dir.Combine("db"),
            progress: (_, _) => throw new InvalidOperationException("stop")));
        Assert.False(Directory.Exists(dir.Combine("db")));
    }

    [Fact]
    public void Caffemodel_DimensionAbove2To31_NamesFileAndLayer()
    {
        using var dir = new TempDir();
        var weights = BadFiles.Weights(BadFiles.Deploy);
        weights.Layer.Single(l => l.Name == "ip").Blobs[0].Shape.Dim[0] = 1L << 33;
        string path = dir.Combine("big.caffemodel");
        WeightFiles.Write(weights, path);
        using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "d.prototxt"), Phase.Test);
        Throws<CremaException>(() => net.CopyTrainedLayersFrom(path), path, "'ip'", "8589934592");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void BlobProto_DataCountDiffersFromShape_IsRejected(int values)
    {
        // Caffe CHECKs data_size == count; no data at all used to load silently and keep the random initialisation.
        using var dir = new TempDir();
        var weights = BadFiles.Weights(BadFiles.Deploy);
        var blob = weights.Layer.Single(l => l.Name == "conv").Blobs[0];
        var kept = blob.Data.Take(values).ToArray();
        blob.Data.Clear();
        blob.Data.AddRange(kept);
        string path = dir.Combine("short.caffemodel");
        WeightFiles.Write(weights, path);
        using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "d.prototxt"), Phase.Test);
        Throws<CremaException>(() => net.CopyTrainedLayersFrom(path), path, "'conv'", $"{values} values", "108");
    }

    private const string PReLUNet = """
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 3 } } }
        layer { name: "prelu" type: "PReLU" bottom: "data" top: "out" prelu_param { channel_shared: true } }
        """;

    [Fact]
    public void ZeroAxisBlob_AsCaffeWritesIt_LoadsAndSavesBothWays()
    {
        // Caffe saves a 0-axis blob (channel_shared slope) with neither shape nor num/channels/height/width.
        using var dir = new TempDir();
        var caffe = new NetParameter();
        var layer = new LayerParameter { Name = "prelu", Type = "PReLU" };
        var proto = new BlobProto();
        proto.Data.Add(0.375f);
        layer.Blobs.Add(proto);
        caffe.Layer.Add(layer);
        string path = dir.Combine("caffe.caffemodel");
        WeightFiles.Write(caffe, path);

        using var net = new Net(PrototxtParser.Parse<NetParameter>(PReLUNet, "p.prototxt"), Phase.Test);
        Assert.Equal(0, net.Layers.Single(l => l.Name == "prelu").Blobs[0].NumAxes);
        net.CopyTrainedLayersFrom(path);
        Assert.Equal(0.375f, net.Layers.Single(l => l.Name == "prelu").Blobs[0].Data[0]);

        // Crema writes it back as Caffe reads it: a present, empty shape (0 axes), one value.
        string saved = dir.Combine("crema.caffemodel");
        net.Save(saved);
        var written = WeightFiles.Read(saved).Layer.Single(l => l.Name == "prelu").Blobs[0];
        Assert.NotNull(written.Shape);
        Assert.Empty(written.Shape.Dim);
        Assert.Equal([0.375f], written.Data);
        using var again = new Net(PrototxtParser.Parse<NetParameter>(PReLUNet, "p.prototxt"), Phase.Test);
        again.CopyTrainedLayersFrom(saved);
        Assert.Equal(0.375f, again.Layers.Single(l => l.Name == "prelu").Blobs[0].Data[0]);

        var scalar = new Blob();
        scalar.FromProto(proto);
        Assert.Equal((0, 1), (scalar.NumAxes, scalar.Count));
    }

    private const string InlineNet = """
        net_param {
          layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
          layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
          layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        }
        base_lr: 0.1 lr_policy: "fixed" max_iter: 1

        """;

    [Theory]
    [InlineData("snapshot: 10", "snapshot_prefix")]
    [InlineData("iter_size: 0", "iter_size")]
    [InlineData("average_loss: 0", "average_loss")]
    [InlineData("snapshot: -1", "snapshot")]
    public void Solver_SettingsCaffeRejects_AreRejected(string extra, string field)
    {
        var param = PrototxtParser.Parse<SolverParameter>(InlineNet + extra, "s.prototxt");
        Throws<CremaException>(() => SolverFactory.Create(param).Dispose(), field);
        using var fine = SolverFactory.Create(PrototxtParser.Parse<SolverParameter>(InlineNet, "s.prototxt"));
        Assert.Equal(3, fine.Net.Layers.Count);
    }

    [Fact]
    public void Solver_InlineV1NetParam_IsRejectedNotAnEmptyNet()
    {
        var param = PrototxtParser.Parse<SolverParameter>("""
            net_param { layers { name: "data" type: DATA top: "data" } }
            base_lr: 0.1 lr_policy: "fixed" max_iter: 1
            """, "s.prototxt");
        Throws<CremaException>(() => SolverFactory.Create(param).Dispose(), "net_param", "V1");
    }

    [Fact]
    public void Solver_RemovesStaleSnapshotTempFiles_OnlyOfItsPrefix()
    {
        using var dir = new TempDir();
        string[] stale = ["snap_iter_5.caffemodel.tmp", "snap_iter_5.solverstate.tmp", "snap_iter_12.caffemodel.h5.tmp", "snap_iter_12.solverstate.h5.tmp"];
        string[] kept = ["snap_iter_5.caffemodel", "snap_iter_x.caffemodel.tmp", "other_iter_5.caffemodel.tmp", "snap_iter_5.notes.tmp", "mysnap_iter_5.caffemodel.tmp"];
        foreach (string name in stale.Concat(kept))
        {
            File.WriteAllText(dir.Combine(name), "x");
        }
        var param = PrototxtParser.Parse<SolverParameter>(InlineNet + $"\nsnapshot_prefix: \"{dir.Combine("snap")}\"", "s.prototxt");
        using (SolverFactory.Create(param))
        {
        }
        Assert.All(stale, name => Assert.False(File.Exists(dir.Combine(name)), name));
        Assert.All(kept, name => Assert.True(File.Exists(dir.Combine(name)), name));
    }

    [Fact]
    public void Restore_EmptyLearnedNet_SaysSo()
    {
        using var dir = new TempDir();
        using var solver = SolverFactory.Create(PrototxtParser.Parse<SolverParameter>(InlineNet, "s.prototxt"));
        var state = new SolverState { Iter = 1, LearnedNet = "" };
        state.History.Add(new BlobProto { Shape = new BlobShape { Dim = { 2, 3 } }, Data = { new float[6] } });
        state.History.Add(new BlobProto { Shape = new BlobShape { Dim = { 2 } }, Data = { new float[2] } });
        string path = dir.Combine("s.solverstate");
        ProtoFiles.WriteBinaryAtomic(state, path);
        Throws<CremaException>(() => solver.Restore(path), path, "learned_net is empty");
    }

    [Fact]
    public void InPlacePoolingThatChangesShape_NamesLayerAndBlob()
    {
        string net = BadFiles.Deploy.Replace("bottom: \"conv\" top: \"pool\"", "bottom: \"conv\" top: \"conv\"", StringComparison.Ordinal)
            .Replace("bottom: \"pool\"", "bottom: \"conv\"", StringComparison.Ordinal);
        Throws<CremaException>(() => new Net(PrototxtParser.Parse<NetParameter>(net, "d.prototxt"), Phase.Test).Dispose(), "'pool'", "in place", "'conv'");
    }

    [Fact]
    public void MemoryGuard_RefusesANetThatCannotFit_NamingTheLayer()
    {
        string net = """
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 } } }
            layer { name: "huge" type: "InnerProduct" bottom: "data" top: "out" inner_product_param { num_output: 2000000000 } }
            """;
        long before = FloatBuffer.LiveBytes;
        using (MemoryGuard.UseLimit(2L << 30))
        {
            var e = Assert.Throws<CremaException>(() => new Net(PrototxtParser.Parse<NetParameter>(net, "d.prototxt"), Phase.Test).Dispose());
            Assert.Contains("Layer 'huge'", e.Message, StringComparison.Ordinal);
            Assert.Contains("2 GiB", e.Message, StringComparison.Ordinal);
        }
        Assert.True(FloatBuffer.LiveBytes - before < 1L << 30, "nothing big was allocated");
    }

    [Fact]
    public void MemoryGuard_TopsThatCannotFit_AreRefusedBeforeForward()
    {
        // 1×1×20000×20000 (1.5 GiB) fits a 2 GiB limit, its 8-channel conv output does not: refused at set-up, naming the layer.
        string net = """
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 20000 dim: 20000 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 1 } }
            """;
        using (MemoryGuard.UseLimit(2L << 30))
        {
            var e = Assert.ThrowsAny<CremaException>(() => new Net(PrototxtParser.Parse<NetParameter>(net, "d.prototxt"), Phase.Test).Dispose());
            Assert.Contains("Layer 'conv'", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ErrorReport_AnyExceptionIsOneLineWithContext()
    {
        static Exception Thrown(Action a)
        {
            try
            {
                a();
            }
            catch (Exception e)
            {
                return e;
            }
            throw new InvalidOperationException("did not throw");
        }
        var overflow = Thrown(() => _ = checked(int.MaxValue + int.Parse("1", System.Globalization.CultureInfo.InvariantCulture)));
        string line = ErrorReport.Describe(overflow);
        Assert.StartsWith("internal error: OverflowException in RobustnessTests.ErrorReport_AnyExceptionIsOneLineWithContext: ", line, StringComparison.Ordinal);
        Assert.Contains("CREMA_DEBUG=1", line, StringComparison.Ordinal);
        var bare = Thrown(() => Path.GetFullPath(""));
        Assert.Matches(@"\(in \w+\.\w+", ErrorReport.Describe(bare));
        Assert.Equal("a b", ErrorReport.Describe(new CremaException("a\n  b")));
        Assert.Equal("inner", ErrorReport.Describe(new AggregateException(new CremaException("inner"))));
    }
}

/// <summary>The --log / -log_dir and user-layer faults through the CLI.</summary>
[Collection(CliCollection.Name)]
public class RobustnessCliTests
{
    [Fact]
    public void LogFlag_NeverOverwritesAFileThatIsNotALog()
    {
        using var dir = new TempDir();
        string net = dir.Combine("net.prototxt");
        File.WriteAllText(net, BadFiles.Deploy);
        var r = CliRunner.Run("time", "-model", net, "-iterations", "1", "--log", net);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("net.prototxt", r.ErrorLines.Single(), StringComparison.Ordinal);
        Assert.Equal(BadFiles.Deploy, File.ReadAllText(net));

        // A log from an earlier run, and a new file, are fine.
        string log = dir.Combine("time.log");
        Assert.Equal(0, CliRunner.Run("time", "-model", net, "-iterations", "1", "--log", log).ExitCode);
        Assert.Equal(0, CliRunner.Run("time", "-model", net, "-iterations", "1", "--log", log).ExitCode);
        Assert.Matches(@"^I\d{4} ", File.ReadAllText(log));
    }

    [Fact]
    public void UserLayerFault_IsOneLineNamingLayerFileAndLine_TraceOnlyWithCremaDebug()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("smooth_l1.cs"), """
            using Crema;
            using Crema.Layers;
            using Crema.Proto;

            public sealed class SmoothL1(LayerParameter param) : Layer(param)
            {
                public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => top[0].ReshapeLike(bottom[0]);

                protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
                {
                    top[0].Data[0] = (new float[2])[bottom[0].Count];
                }
            }
            """);
        File.WriteAllText(dir.Combine("net.prototxt"), """
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "py" type: "Python" bottom: "data" top: "out" python_param { module: "smooth_l1.cs" layer: "SmoothL1" } }
            """);
        var r = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("crema: error: Layer 'py' (smooth_l1.cs, type Python): Forward threw IndexOutOfRangeException: Index was outside the bounds of the array. at smooth_l1.cs:11",
            r.ErrorLines.Single());
        Assert.DoesNotContain("   at ", r.AllText, StringComparison.Ordinal);

        Environment.SetEnvironmentVariable("CREMA_DEBUG", "1");
        try
        {
            var debug = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "1");
            Assert.Contains("smooth_l1.cs:line 11", debug.Error, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CREMA_DEBUG", null);
        }
    }
}
