using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Tests.Data;
using Crema.Tools;
using Google.Protobuf;

namespace Crema.Tests.Cli;

[Collection(CliCollection.Name)]
public class ToolVerbTests
{
    private static List<(string Key, Datum Datum)> ReadAll(string db)
    {
        using var lmdb = LmdbDatabase.OpenRead(db);
        using var cursor = lmdb.OpenCursor();
        var result = new List<(string, Datum)>();
        for (cursor.SeekToFirst(); cursor.IsValid; cursor.MoveNext())
        {
            result.Add((cursor.KeyString, Datum.Parser.ParseFrom(cursor.Value)));
        }
        return result;
    }

    [Fact]
    public void UpgradeNetProtoText_V1ToCurrentLayers()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("v1.prototxt"), """
            name: "old"
            input: "data"
            input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3
            layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
            layers { name: "relu" type: RELU bottom: "ip" top: "ip" }
            """);
        var r = CliRunner.Run("upgrade_net_proto_text", dir.Combine("v1.prototxt"), dir.Combine("new.prototxt"));
        Assert.Equal(0, r.ExitCode);
        var net = ProtoFiles.ReadText<NetParameter>(dir.Combine("new.prototxt"));
        Assert.False(NetUpgrader.NeedsUpgrade(net));
        Assert.Equal(["Input", "InnerProduct", "ReLU"], net.Layer.Select(l => l.Type));
        Assert.Contains(r.Log, l => l.Contains("Wrote upgraded NetParameter text proto to", StringComparison.Ordinal));
        Assert.False(File.Exists(dir.Combine("new.prototxt.tmp")));
    }

    [Fact]
    public void UpgradeNetProtoBinary_V1Caffemodel()
    {
        using var dir = new TempDir();
        string v1 = Path.Combine(AppContext.BaseDirectory, "TestData", "caffemodels", "lenet_v1_iter_10000.caffemodel");
        var r = CliRunner.Run("upgrade_net_proto_binary", v1, dir.Combine("lenet.caffemodel"));
        Assert.Equal(0, r.ExitCode);
        var net = ProtoFiles.ReadBinary(dir.Combine("lenet.caffemodel"), NetParameter.Parser, "net");
        Assert.False(NetUpgrader.NeedsUpgrade(net));
        var conv1 = net.Layer.Single(l => l.Name == "conv1");
        Assert.Equal("Convolution", conv1.Type);
        Assert.Equal(20 * 5 * 5, conv1.Blobs[0].Data.Count);
    }

    [Fact]
    public void UpgradeSolverProtoText_SolverTypeEnumToString()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("s.prototxt"), "net: \"n.prototxt\"\nbase_lr: 0.1\nsolver_type: ADAM\n");
        var r = CliRunner.Run("upgrade_solver_proto_text", dir.Combine("s.prototxt"), dir.Combine("s2.prototxt"));
        Assert.Equal(0, r.ExitCode);
        var solver = ProtoFiles.ReadText<SolverParameter>(dir.Combine("s2.prototxt"));
        Assert.Equal("Adam", solver.Type);
        Assert.False(solver.HasSolverType);
    }

    /// <summary>Two images: cat.jpg in a subfolder and a synthetic 24×32 PNG whose name has a space.</summary>
    private static (string Root, string List, DecodedImage Synthetic) MakeImageset(TempDir dir)
    {
        string root = dir.Combine("images") + "/";
        Directory.CreateDirectory(root + "a");
        File.Copy(ImageDecoderTests.CatJpg, root + "a/cat.jpg");
        var pixels = new byte[3 * 24 * 32];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i * 7) % 251);
        }
        var synthetic = new DecodedImage(pixels, 3, 24, 32);
        File.WriteAllBytes(root + "b c.png", ImageDecoder.Encode(synthetic, "png"));
        string list = dir.Combine("list.txt");
        File.WriteAllText(list, "a/cat.jpg 3\nb c.png 7\n");
        return (root, list, synthetic);
    }

    [Fact]
    public void ConvertImageset_ResizesToBgrDatumsKeyedByIndexAndPath()
    {
        using var dir = new TempDir();
        var (root, list, synthetic) = MakeImageset(dir);
        var r = CliRunner.Run("convert_imageset", "-resize_height", "24", "-resize_width", "32", "-check_size", root, list, dir.Combine("db"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => l.EndsWith("A total of 2 images.", StringComparison.Ordinal));
        var records = ReadAll(dir.Combine("db"));
        Assert.Equal(["00000000_a/cat.jpg", "00000001_b c.png"], records.Select(x => x.Key));
        var cat = records[0].Datum;
        Assert.Equal((3, 24, 32, 3, false), (cat.Channels, cat.Height, cat.Width, cat.Label, cat.Encoded));
        Assert.Equal(ImageDecoder.ReadFile(root + "a/cat.jpg", 24, 32).Data, cat.Data.ToByteArray());
        Assert.Equal(synthetic.Data, records[1].Datum.Data.ToByteArray());
        Assert.Equal(7, records[1].Datum.Label);
    }

    [Fact]
    public void ConvertImageset_GrayAndEncoded()
    {
        using var dir = new TempDir();
        var (root, list, synthetic) = MakeImageset(dir);
        Assert.Equal(0, CliRunner.Run("convert_imageset", "-gray", root, list, dir.Combine("gray")).ExitCode);
        var gray = ReadAll(dir.Combine("gray"));
        Assert.Equal((1, 360, 480), (gray[0].Datum.Channels, gray[0].Datum.Height, gray[0].Datum.Width));

        Assert.Equal(0, CliRunner.Run("convert_imageset", "-encoded", root, list, dir.Combine("enc")).ExitCode);
        var enc = ReadAll(dir.Combine("enc"));
        Assert.True(enc[0].Datum.Encoded);
        Assert.Equal(File.ReadAllBytes(root + "a/cat.jpg"), enc[0].Datum.Data.ToByteArray());
        var decoded = ImageDecoder.DecodeDatum(enc[1].Datum);
        Assert.Equal((3, 24, 32, 7), (decoded.Channels, decoded.Height, decoded.Width, decoded.Label));
        Assert.Equal(synthetic.Data, decoded.Data.ToByteArray());

        // jpg re-encoded as png: lossless, so it decodes to the same pixels as the original jpg.
        Assert.Equal(0, CliRunner.Run("convert_imageset", "-encode_type", "png", root, list, dir.Combine("png")).ExitCode);
        var png = ReadAll(dir.Combine("png"));
        Assert.Equal(ImageDecoder.ReadFile(root + "a/cat.jpg").Data, ImageDecoder.DecodeDatum(png[0].Datum).Data.ToByteArray());
    }

    [Fact]
    public void ConvertImageset_MissingImageIsSkippedWithAnError()
    {
        using var dir = new TempDir();
        var (root, list, _) = MakeImageset(dir);
        File.AppendAllText(list, "missing.jpg 1\n");
        var r = CliRunner.Run("convert_imageset", root, list, dir.Combine("db"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => l.StartsWith('E') && l.Contains("missing.jpg", StringComparison.Ordinal));
        Assert.Equal(2, ReadAll(dir.Combine("db")).Count);
    }

    [Fact]
    public void ComputeImageMean_AveragesUint8AndFloatDatums()
    {
        using var dir = new TempDir();
        var (root, list, _) = MakeImageset(dir);
        Assert.Equal(0, CliRunner.Run("convert_imageset", "-resize_height", "24", "-resize_width", "32", root, list, dir.Combine("db")).ExitCode);
        var r = CliRunner.Run("compute_image_mean", dir.Combine("db"), dir.Combine("mean.binaryproto"), "-backend", "lmdb");
        Assert.Equal(0, r.ExitCode);
        var mean = ProtoFiles.ReadBlobProto(dir.Combine("mean.binaryproto"));
        Assert.Equal((1, 3, 24, 32), (mean.Num, mean.Channels, mean.Height, mean.Width));
        var records = ReadAll(dir.Combine("db"));
        var a = records[0].Datum.Data.Span;
        var b = records[1].Datum.Data.Span;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal((a[i] + b[i]) / 2f, mean.Data[i]);
        }
        Assert.Contains(r.Log, l => l.Contains("mean_value channel [2]:", StringComparison.Ordinal));

        using (var writer = LmdbDatabase.Create(dir.Combine("floats")))
        {
            writer.Put("0", new Datum { Channels = 2, Height = 1, Width = 1, FloatData = { 1f, -2f } }.ToByteArray());
            writer.Put("1", new Datum { Channels = 2, Height = 1, Width = 1, FloatData = { 2f, 4f } }.ToByteArray());
        }
        Assert.Equal(0, CliRunner.Run("compute_image_mean", dir.Combine("floats"), dir.Combine("fmean.binaryproto")).ExitCode);
        Assert.Equal([1.5f, 1f], ProtoFiles.ReadBlobProto(dir.Combine("fmean.binaryproto")).Data);
    }

    private const string FeatureNet = """
        name: "features"
        layer { name: "data" type: "Data" top: "data" top: "label"
                data_param { source: "SOURCE" batch_size: 5 } transform_param { scale: 0.00390625 } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
                inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: 0.5 } } }
        """;

    /// <summary>A 20-digit MNIST LMDB, a net over it and trained weights.</summary>
    private static (string Model, string Weights, List<Datum> Digits) MakeFeatureNet(TempDir dir)
    {
        MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("mnist"), maxItems: 20);
        string model = dir.Combine("net.prototxt");
        File.WriteAllText(model, FeatureNet.Replace("SOURCE", dir.Combine("mnist"), StringComparison.Ordinal));
        using (var net = new Net(ProtoFiles.ReadNetText(model), Phase.Test))
        {
            net.Save(dir.Combine("w.caffemodel"));
        }
        return (model, dir.Combine("w.caffemodel"), ReadAll(dir.Combine("mnist")).Select(x => x.Datum).ToList());
    }

    /// <summary>ip = W·(pixels / 256) + b for digit <paramref name="n"/>, computed independently of the net.</summary>
    private static float[] ExpectedIp(NetParameter weights, Datum digit)
    {
        var ip = weights.Layer.Single(l => l.Name == "ip");
        var w = ip.Blobs[0].Data;
        var b = ip.Blobs[1].Data;
        var x = digit.Data.Span;
        var result = new float[4];
        for (int o = 0; o < 4; o++)
        {
            double s = b[o];
            for (int i = 0; i < 784; i++)
            {
                s += w[(o * 784) + i] * (x[i] * 0.00390625f);
            }
            result[o] = (float)s;
        }
        return result;
    }

    [Fact]
    public void ExtractFeatures_Npy_StacksBatches()
    {
        using var dir = new TempDir();
        var (model, weights, digits) = MakeFeatureNet(dir);
        var r = CliRunner.Run("extract_features", weights, model, "ip,data", dir.Combine("ip") + "," + dir.Combine("data.npy"), "3", "npy", "CPU");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => l.EndsWith("Successfully extracted the features!", StringComparison.Ordinal));
        var (ipShape, ip) = NpyFile.Read(dir.Combine("ip.npy"));
        var (dataShape, data) = NpyFile.Read(dir.Combine("data.npy"));
        Assert.Equal([15, 4], ipShape);
        Assert.Equal([15, 1, 28, 28], dataShape);
        var trained = ProtoFiles.ReadNetBinary(weights);
        for (int n = 0; n < 15; n++)
        {
            var expected = ExpectedIp(trained, digits[n]);
            for (int o = 0; o < 4; o++)
            {
                Assert.True(Math.Abs(expected[o] - ip[(n * 4) + o]) <= 1e-4, $"{expected[o]} vs {ip[(n * 4) + o]}");
            }
            Assert.Equal(digits[n].Data[300] * 0.00390625f, data[(n * 784) + 300]);
        }
    }

    [Fact]
    public void ExtractFeatures_Lmdb_OneFloatDatumPerImage()
    {
        using var dir = new TempDir();
        var (model, weights, digits) = MakeFeatureNet(dir);
        var r = CliRunner.Run("extract_features", weights, model, "ip", dir.Combine("ipdb"), "2", "lmdb");
        Assert.Equal(0, r.ExitCode);
        var records = ReadAll(dir.Combine("ipdb"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString("D10", System.Globalization.CultureInfo.InvariantCulture)), records.Select(x => x.Key));
        var trained = ProtoFiles.ReadNetBinary(weights);
        for (int n = 0; n < 10; n++)
        {
            var datum = records[n].Datum;
            Assert.Equal((4, 1, 1), (datum.Channels, datum.Height, datum.Width));
            var expected = ExpectedIp(trained, digits[n]);
            for (int o = 0; o < 4; o++)
            {
                Assert.True(Math.Abs(expected[o] - datum.FloatData[o]) <= 1e-4, $"{expected[o]} vs {datum.FloatData[o]}");
            }
        }
    }

    [Fact]
    public void ExtractFeatures_UnknownBlob_ListsTheNetsBlobs()
    {
        using var dir = new TempDir();
        var (model, weights, _) = MakeFeatureNet(dir);
        var r = CliRunner.Run("extract_features", weights, model, "fc7", dir.Combine("out"), "1", "npy");
        Assert.Equal(1, r.ExitCode);
        string line = Assert.Single(r.ErrorLines);
        Assert.Contains("'fc7'", line, StringComparison.Ordinal);
        Assert.Contains("data, label, ip", line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.Combine("out.npy")));
    }

    [Fact]
    public void FeatureExtractor_Api_ReturnsStackedBlobs()
    {
        using var dir = new TempDir();
        var (model, weights, digits) = MakeFeatureNet(dir);
        using var net = new Net(ProtoFiles.ReadNetText(model), Phase.Test);
        net.CopyTrainedLayersFrom(weights);
        var sets = FeatureExtractor.Extract(net, ["label", "ip"], 4);
        Assert.Equal([20], sets[0].Shape);
        Assert.Equal(digits.Select(d => (float)d.Label), sets[0].Data);
        Assert.Equal([20, 4], sets[1].Shape);
        Assert.Equal(80, sets[1].Data.Length);
    }

    [Fact]
    public void Progress_IsSilentWhenRedirected_AndRendersAnEta()
    {
        Assert.Null(Crema.Cli.Progress.Start("x", 10));
        string bar = Crema.Cli.Progress.Render("train", 25, 100, TimeSpan.FromSeconds(5), width: 10);
        Assert.Equal("train [##........]  25% 25/100 5/s ETA 00:15", bar);
    }
}
