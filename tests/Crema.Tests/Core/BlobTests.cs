using Crema.Proto;

namespace Crema.Tests.Core;

public class BlobTests
{
    [Fact]
    public void Reshape_ReallocatesOnlyWhenGrowing()
    {
        var blob = new Blob(2, 3, 4, 5);
        Assert.Equal(120, blob.Count);
        var buffer = blob.DataBuffer;
        blob.Data[7] = 42;
        blob.Reshape(4, 5, 6);
        Assert.Same(buffer, blob.DataBuffer);
        Assert.Equal(42, blob.Data[7]);
        blob.Reshape(11, 11);
        Assert.NotSame(buffer, blob.DataBuffer);
        Assert.Equal(121, blob.Count);
    }

    [Fact]
    public void Storage_Is64ByteAligned()
    {
        var blob = new Blob(3, 7);
        unsafe
        {
            Assert.Equal(0, (long)blob.DataBuffer.Pointer % 64);
            Assert.Equal(0, (long)blob.DiffBuffer.Pointer % 64);
        }
    }

    [Fact]
    public void LegacyAccessors_PadMissingAxesWithOne()
    {
        var blob = new Blob(2, 3);
        Assert.Equal((2, 3, 1, 1), (blob.Num, blob.Channels, blob.Height, blob.Width));
        var full = new Blob(2, 3, 4, 5);
        Assert.Equal(((1 * 3 + 2) * 4 + 3) * 5 + 4, full.Offset(1, 2, 3, 4));
        Assert.Equal(full.Offset(1, 2, 3, 4), full.Offset([1, 2, 3, 4]));
        Assert.Equal(5, full.ShapeAt(-1));
        Assert.Equal(20, full.CountFrom(2));
    }

    [Fact]
    public void NegativeDimension_IsRejectedWithTheShape()
    {
        var blob = new Blob { Name = "conv1" };
        var e = Assert.Throws<ArgumentException>(() => blob.Reshape(2, -1));
        Assert.Contains("conv1", e.Message, StringComparison.Ordinal);
        Assert.Contains("-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShareData_MakesBothBlobsOneMemory()
    {
        var a = new Blob(2, 2);
        var b = new Blob(4);
        b.ShareData(a);
        a.Data[3] = 5;
        Assert.Equal(5, b.Data[3]);
        b.Diff[0] = 1;
        Assert.Equal(0, a.Diff[0]);
        Assert.Throws<ArgumentException>(() => new Blob(3).ShareData(a));
    }

    [Fact]
    public void Update_SubtractsDiff()
    {
        var blob = TestBlobs.FromValues([3], 1, 2, 3);
        blob.Diff[0] = 0.5f;
        blob.Diff[2] = -1;
        blob.Update();
        Assert.Equal([0.5f, 2, 4], blob.Data.ToArray());
    }

    [Fact]
    public void Proto_RoundTripsShapeDataAndDiff()
    {
        var blob = TestBlobs.Gaussian(1701, 1, 2, 3, 4);
        blob.Diff[5] = 9;
        var proto = blob.ToProto(writeDiff: true);
        var copy = new Blob();
        copy.FromProto(proto);
        Assert.Equal(blob.Shape, copy.Shape);
        Assert.Equal(blob.Data.ToArray(), copy.Data.ToArray());
        Assert.Equal(9, copy.Diff[5]);
    }

    [Fact]
    public void FromProto_AcceptsLegacyFourDShapeAndDoubles()
    {
        var proto = new BlobProto { Num = 1, Channels = 2, Height = 1, Width = 2 };
        proto.DoubleData.AddRange([1, 2, 3, 4]);
        var blob = new Blob();
        blob.FromProto(proto);
        Assert.Equal([1, 2, 1, 2], blob.Shape);
        Assert.Equal([1f, 2, 3, 4], blob.Data.ToArray());
        var target = new Blob(2, 2);
        target.FromProto(new BlobProto { Num = 1, Channels = 1, Height = 2, Width = 2, Data = { 1, 2, 3, 4 } }, reshape: false);
        Assert.Equal(4, target.Data[3]);
    }

    [Fact]
    public void FromProto_WithWrongShape_NamesBothShapes()
    {
        var target = new Blob(3, 2) { Name = "ip1 #0" };
        var proto = new Blob(2, 3).ToProto();
        var e = Assert.Throws<ArgumentException>(() => target.FromProto(proto, reshape: false));
        Assert.Contains("(2, 3)", e.Message, StringComparison.Ordinal);
        Assert.Contains("(3, 2)", e.Message, StringComparison.Ordinal);
    }
}
