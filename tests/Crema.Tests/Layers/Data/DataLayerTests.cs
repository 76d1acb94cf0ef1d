using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;
using Google.Protobuf;

namespace Crema.Tests.Layers;

public sealed class DataLayerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Seven 1×2×3 datums: record i has bytes 10i + j and label i.
    private string WriteSevenRecords()
    {
        string path = _dir.Combine("seven");
        using var writer = LmdbDatabase.Create(path);
        for (int i = 0; i < 7; i++)
        {
            var bytes = Enumerable.Range(0, 6).Select(j => (byte)(10 * i + j)).ToArray();
            writer.Put(MnistConverter.Key(i), new Datum { Channels = 1, Height = 2, Width = 3, Data = ByteString.CopyFrom(bytes), Label = i }.ToByteArray());
        }
        return path;
    }

    private static LayerParameter Param(string source, uint batchSize, Action<LayerParameter>? configure = null)
    {
        var p = new LayerParameter
        {
            Name = "data",
            Type = "Data",
            DataParam = new DataParameter { Source = source, BatchSize = batchSize, Backend = DataParameter.Types.DB.Lmdb },
        };
        configure?.Invoke(p);
        return p;
    }

    [Fact]
    public void Forward_ReadsRecordsInKeyOrderAndWrapsAround()
    {
        string path = WriteSevenRecords();
        using var layer = new DataLayer(Param(path, 3, p => p.DataParam.Prefetch = 2));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        Assert.Equal([3, 1, 2, 3], data.Shape);
        Assert.Equal([3], label.Shape);

        int[][] expected = [[0, 1, 2], [3, 4, 5], [6, 0, 1], [2, 3, 4], [5, 6, 0]];
        foreach (var records in expected)
        {
            layer.Forward([], [data, label]);
            for (int item = 0; item < 3; item++)
            {
                int i = records[item];
                Assert.Equal(i, label.Data[item]);
                for (int j = 0; j < 6; j++)
                {
                    Assert.Equal(10 * i + j, data.Data[item * 6 + j]);
                }
            }
        }
    }

    [Fact]
    public void Forward_MnistSlice_MatchesIdxScaledLikeLeNet()
    {
        string path = _dir.Combine("mnist");
        MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, path, maxItems: 100);
        var images = IdxFile.Read(MnistFixture.TrainImages, 100);
        var labels = IdxFile.Read(MnistFixture.TrainLabels, 100);
        using var layer = new DataLayer(Param(path, 64, p => p.TransformParam = new TransformationParameter { Scale = 0.00390625f }));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        Assert.Equal([64, 1, 28, 28], data.Shape);

        for (int pass = 0; pass < 2; pass++)
        {
            layer.Forward([], [data, label]);
            for (int item = 0; item < 64; item++)
            {
                int record = (pass * 64 + item) % 100;
                Assert.Equal(labels.Data[record], label.Data[item]);
                var pixels = images.Item(record);
                for (int k = 0; k < 784; k++)
                {
                    Assert.Equal(pixels[k] * 0.00390625f, data.Data[item * 784 + k]);
                }
            }
        }
    }

    [Fact]
    public void Forward_DataOnlyTop_AndDeprecatedDataParamTransform()
    {
        // The fixture was written by LMDB 0.9: 24 records 3×32×32, x[j] = (7i + j) mod 256.
        using var layer = new DataLayer(Param(LmdbFixtureTests.FixturePath, 5, p =>
        {
            p.DataParam.Scale = 0.5f;
            p.DataParam.CropSize = 30;
            p.Phase = Phase.Test;
        }));
        var data = new Blob();
        layer.SetUp([], [data]);
        Assert.Equal([5, 3, 30, 30], data.Shape);
        layer.Forward([], [data]);
        layer.Forward([], [data]);
        // Second batch, item 1 = record 6; TEST centre crop offset 1: (c, h, w) ← (c, h+1, w+1).
        int c = 2, h = 4, w = 7;
        int source = (c * 32 + h + 1) * 32 + w + 1;
        Assert.Equal((byte)(6 * 7 + source) * 0.5f, data.Data[data.Offset(1, c, h, w)]);
    }

    [Fact]
    public void SetUp_MissingSource_NamesLayerAndPath()
    {
        string path = _dir.Combine("does-not-exist");
        using var layer = new DataLayer(Param(path, 4));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("'data'", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_LevelDbBackendOverAnLmdb_SaysWhichItIs()
    {
        string path = WriteSevenRecords();
        using var layer = new DataLayer(Param(path, 4, p => p.DataParam.Backend = DataParameter.Types.DB.Leveldb));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("is an LMDB database, not a LevelDB one", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_BadBatchSize_Throws()
    {
        using var layer = new DataLayer(Param(WriteSevenRecords(), 0));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob()]));
        Assert.Contains("batch_size", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_StopsPrefetchingAndForwardThenThrows()
    {
        var layer = new DataLayer(Param(WriteSevenRecords(), 2));
        var data = new Blob();
        layer.SetUp([], [data]);
        layer.Forward([], [data]);
        layer.Dispose();
        layer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => layer.Forward([], [data]));
    }

    [Fact]
    public void Backward_HasNoBottomsAndLeavesTheTopsAlone()
    {
        using var layer = new DataLayer(Param(WriteSevenRecords(), 2));
        var data = new Blob();
        layer.SetUp([], [data]);
        layer.Forward([], [data]);
        for (int i = 0; i < data.Count; i++)
        {
            data.Diff[i] = i + 0.5f;
        }
        float[] values = data.Data.ToArray(), gradients = data.Diff.ToArray();
        Assert.Contains(values, v => v != 0);

        layer.Backward([data], [], []);
        Assert.Equal(values, data.Data.ToArray());
        Assert.Equal(gradients, data.Diff.ToArray());
        Assert.Equal(BlobCount.Exactly(0), layer.BottomCount);
    }
}
