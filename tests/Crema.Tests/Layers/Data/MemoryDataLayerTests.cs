using Crema.Layers;
using Crema.Proto;
using Google.Protobuf;

namespace Crema.Tests.Layers;

public class MemoryDataLayerTests
{
    private static MemoryDataLayer Create(uint batch = 2, uint c = 1, uint h = 2, uint w = 2, TransformationParameter? transform = null) => new(new LayerParameter
    {
        Name = "mem",
        Type = "MemoryData",
        MemoryDataParam = new MemoryDataParameter { BatchSize = batch, Channels = c, Height = h, Width = w },
        TransformParam = transform,
    });

    [Fact]
    public void Forward_ServesBatchesInOrderAndCycles()
    {
        var layer = Create();
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        Assert.Equal([2, 1, 2, 2], data.Shape);
        Assert.Equal([2], label.Shape);
        var values = Enumerable.Range(0, 6 * 4).Select(i => (float)i).ToArray();
        var labels = new float[] { 10, 11, 12, 13, 14, 15 };
        layer.Reset(values, labels, 6);

        foreach (int start in new[] { 0, 2, 4, 0 })
        {
            layer.Forward([], [data, label]);
            Assert.Equal(values.AsSpan(start * 4, 8).ToArray(), data.Data.ToArray());
            Assert.Equal(labels.AsSpan(start, 2).ToArray(), label.Data.ToArray());
        }
    }

    [Fact]
    public void Reset_NotMultipleOfBatch_Throws()
    {
        var layer = Create(batch: 4);
        layer.SetUp([], [new Blob(), new Blob()]);
        var e = Assert.Throws<CremaException>(() => layer.Reset(new float[6 * 4], new float[6], 6));
        Assert.Contains("'mem'", e.Message, StringComparison.Ordinal);
        Assert.Contains("n (6)", e.Message, StringComparison.Ordinal);
        Assert.Contains("batch_size (4)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_BeforeReset_Throws()
    {
        var layer = Create();
        var tops = new[] { new Blob(), new Blob() };
        layer.SetUp([], tops);
        var e = Assert.Throws<CremaException>(() => layer.Forward([], tops));
        Assert.Contains("Reset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_MissingDimensions_Throws()
    {
        var layer = Create(h: 0);
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("memory_data_param", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDatums_TransformsWithTransformParam()
    {
        var layer = Create(batch: 1, c: 1, h: 1, w: 2, transform: new TransformationParameter { Scale = 0.5f, MeanValue = { 2f } });
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.AddDatums([
            new Datum { Channels = 1, Height = 1, Width = 2, Data = ByteString.CopyFrom(4, 6), Label = 3 },
            new Datum { Channels = 1, Height = 1, Width = 2, Data = ByteString.CopyFrom(10, 0), Label = 5 },
        ]);
        layer.Forward([], [data, label]);
        Assert.Equal([1f, 2f], data.Data.ToArray());
        Assert.Equal(3f, label.Data[0]);
        layer.Forward([], [data, label]);
        Assert.Equal([4f, -1f], data.Data.ToArray());
        Assert.Equal(5f, label.Data[0]);
    }

    [Fact]
    public void SetBatchSize_ChangesTopShape()
    {
        var layer = Create(batch: 2);
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Reset(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), [0, 1, 2, 3], 4);
        layer.SetBatchSize(4);
        layer.Forward([], [data, label]);
        Assert.Equal([4, 1, 2, 2], data.Shape);
        Assert.Equal(15f, data.Data[15]);
        Assert.Throws<CremaException>(() => layer.SetBatchSize(3));
    }
}
