using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Tests.Proto;

public sealed class ProtoFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-proto-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string CaffeModel(string name) => Path.Combine(ModelFilesTests.TestData, "caffemodels", name);

    /// <summary>Caffe's shape: N-D <c>shape</c> when present, else the legacy 4-D num/channels/height/width.</summary>
    private static long[] ShapeOf(BlobProto blob) =>
        blob.Shape is not null ? [.. blob.Shape.Dim] : [blob.Num, blob.Channels, blob.Height, blob.Width];

    [Fact]
    public void ReadNetBinary_LeNetCaffemodel()
    {
        var net = ProtoFiles.ReadNetBinary(CaffeModel("lenet_iter_10000.caffemodel"));
        var learned = net.Layer.Where(l => l.Blobs.Count > 0).ToDictionary(l => l.Name);
        Assert.Equal(["conv1", "conv2", "ip1", "ip2"], learned.Keys.Order());
        Assert.Equal([20L, 1, 5, 5], ShapeOf(learned["conv1"].Blobs[0]));
        Assert.Equal([20L], ShapeOf(learned["conv1"].Blobs[1]));
        Assert.Equal([50L, 20, 5, 5], ShapeOf(learned["conv2"].Blobs[0]));
        Assert.Equal([500L, 800], ShapeOf(learned["ip1"].Blobs[0]));
        Assert.Equal([10L, 500], ShapeOf(learned["ip2"].Blobs[0]));
        Assert.Equal(20 * 25, learned["conv1"].Blobs[0].Data.Count);
        Assert.Equal(500 * 800, learned["ip1"].Blobs[0].Data.Count);
        Assert.Contains(learned["conv1"].Blobs[0].Data, v => v != 0);
    }

    [Fact]
    public void ReadNetBinary_V1Caffemodel_IsUpgraded()
    {
        var net = ProtoFiles.ReadNetBinary(CaffeModel("lenet_v1_iter_10000.caffemodel"));
        Assert.Empty(net.Layers);
        var conv1 = net.Layer.Single(l => l.Name == "conv1");
        Assert.Equal("Convolution", conv1.Type);
        Assert.Equal([20L, 1, 5, 5], ShapeOf(conv1.Blobs[0]));
        Assert.Equal([1L, 1, 1, 20], ShapeOf(conv1.Blobs[1]));
        var ip1 = net.Layer.Single(l => l.Name == "ip1");
        Assert.Equal("InnerProduct", ip1.Type);
        Assert.Equal([1L, 1, 500, 800], ShapeOf(ip1.Blobs[0]));
        Assert.Equal(500 * 800, ip1.Blobs[0].Data.Count);
        Assert.Equal(2, ip1.Blobs.Count);
        Assert.Equal(10 * 500, net.Layer.Single(l => l.Name == "ip2").Blobs[0].Data.Count);
    }

    /// <summary>Larger than the 64 MB that old protobuf readers refused by default (VGG-16's caffemodel is 528 MB).</summary>
    [Fact]
    public void BinaryRoundTrip_LargeModel()
    {
        const int count = 17_000_000;
        var blob = new BlobProto { Shape = new BlobShape { Dim = { count } } };
        blob.Data.Capacity = count;
        for (int i = 0; i < count; i++)
            blob.Data.Add(i);
        var net = new NetParameter { Name = "big", Layer = { new LayerParameter { Name = "fc", Type = "InnerProduct", Blobs = { blob } } } };
        string path = Path.Combine(_dir, "big.caffemodel");
        ProtoFiles.WriteBinaryAtomic(net, path);
        Assert.True(new FileInfo(path).Length > 64L << 20);
        var back = ProtoFiles.ReadNetBinary(path);
        var data = back.Layer[0].Blobs[0].Data;
        Assert.Equal(count, data.Count);
        Assert.Equal(count - 1f, data[count - 1]);
        Assert.Equal(12345f, data[12345]);
    }

    [Fact]
    public void ReadNet_ChoosesByExtensionOrContent()
    {
        var binary = ProtoFiles.ReadNet(CaffeModel("lenet_iter_10000.caffemodel"));
        string noExtension = Path.Combine(_dir, "weights");
        File.Copy(CaffeModel("lenet_iter_10000.caffemodel"), noExtension);
        Assert.Equal(binary, ProtoFiles.ReadNet(noExtension));

        string textNoExtension = Path.Combine(_dir, "net");
        File.WriteAllText(textNoExtension, "name: 'n' layer { name: 'r' type: 'ReLU' }");
        Assert.Equal("n", ProtoFiles.ReadNet(textNoExtension).Name);
    }

    [Fact]
    public void BinaryWriteRead_RoundTrip_NoTmpLeft()
    {
        var net = ProtoFiles.ReadNetBinary(CaffeModel("lenet_v1_iter_10000.caffemodel"));
        string path = Path.Combine(_dir, "copy.caffemodel");
        File.WriteAllText(path, "old content to be replaced");
        ProtoFiles.WriteBinaryAtomic(net, path);
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(net, ProtoFiles.ReadNetBinary(path));
    }

    [Fact]
    public void TextWriteRead_RoundTrip_NoTmpLeft()
    {
        var net = ProtoFiles.ReadNetText(Path.Combine(ModelFilesTests.TestData, "models/bvlc_caffe/models_bvlc_googlenet/train_val.prototxt"));
        string path = Path.Combine(_dir, "net.prototxt");
        ProtoFiles.WriteTextAtomic(net, path);
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(net, ProtoFiles.ReadNetText(path));
    }

    [Fact]
    public void WriteAtomic_MissingFolder_ClearError()
    {
        string path = Path.Combine(_dir, "no", "such", "folder", "x.caffemodel");
        var e = Assert.Throws<CremaException>(() => ProtoFiles.WriteBinaryAtomic(new NetParameter { Name = "x" }, path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<CremaException>(() => ProtoFiles.WriteTextAtomic(new NetParameter { Name = "x" }, path));
        Assert.Contains(path, e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteAtomic_TargetIsFolder_ClearErrorAndNoTmp()
    {
        string path = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(path);
        var e = Assert.Throws<CremaException>(() => ProtoFiles.WriteBinaryAtomic(new NetParameter { Name = "x" }, path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void ReadNetBinary_MissingFile()
    {
        string path = Path.Combine(_dir, "missing.caffemodel");
        var e = Assert.Throws<CremaException>(() => ProtoFiles.ReadNetBinary(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadNetBinary_Truncated()
    {
        string path = Path.Combine(_dir, "cut.caffemodel");
        var bytes = File.ReadAllBytes(CaffeModel("lenet_iter_10000.caffemodel"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CremaException>(() => ProtoFiles.ReadNetBinary(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: 'this is a prototxt, not binary'\nlayer { name: 'a' }\n")]
    [InlineData("")]
    public void ReadNetBinary_NotANetParameter(string content)
    {
        string path = Path.Combine(_dir, "wrong.caffemodel");
        File.WriteAllText(path, content);
        var e = Assert.Throws<CremaException>(() => ProtoFiles.ReadNetBinary(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadNetBinary_OtherCaffeMessages_AreRejected()
    {
        var state = new SolverState { Iter = 5000, LearnedNet = "lenet_iter_5000.caffemodel", History = { new BlobProto { Data = { 1, 2, 3 } } } };
        var mean = new BlobProto { Shape = new BlobShape { Dim = { 3, 2, 2 } }, Data = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 } };
        foreach (var message in new Google.Protobuf.IMessage[] { state, mean })
        {
            string path = Path.Combine(_dir, "wrong.caffemodel");
            ProtoFiles.WriteBinaryAtomic(message, path);
            var e = Assert.Throws<CremaException>(() => ProtoFiles.ReadNetBinary(path));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("not a Caffe NetParameter", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ReadNetText_ErrorNamesFile()
    {
        string path = Path.Combine(_dir, "bad.prototxt");
        File.WriteAllText(path, "name: 'x'\nlayer {\n  nmae: 'y'\n}\n");
        var e = Assert.Throws<PrototxtException>(() => ProtoFiles.ReadNetText(path));
        Assert.StartsWith($"{path}:3:3: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'name'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSolver_UpgradesSolverType()
    {
        string path = Path.Combine(_dir, "solver.prototxt");
        File.WriteAllText(path, "net: 'n.prototxt'\nbase_lr: 0.01\nsolver_type: NESTEROV\n");
        var solver = ProtoFiles.ReadSolver(path);
        Assert.Equal("Nesterov", solver.Type);
        Assert.False(solver.HasSolverType);
    }

    [Fact]
    public void ReadBlobProto_RoundTrip()
    {
        var blob = new BlobProto { Shape = new BlobShape { Dim = { 1, 3, 2, 2 } } };
        blob.Data.AddRange(Enumerable.Range(0, 12).Select(i => i * 0.5f));
        string path = Path.Combine(_dir, "mean.binaryproto");
        ProtoFiles.WriteBinaryAtomic(blob, path);
        Assert.Equal(blob, ProtoFiles.ReadBlobProto(path));
    }
}
