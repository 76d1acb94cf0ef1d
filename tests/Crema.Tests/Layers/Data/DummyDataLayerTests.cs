using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

public class DummyDataLayerTests
{
    private static DummyDataLayer Create(DummyDataParameter p) => new(new LayerParameter { Name = "dummy", Type = "DummyData", DummyDataParam = p });

    [Fact]
    public void Forward_LegacyShapesWithoutFiller_AreZeros()
    {
        var p = new DummyDataParameter { Num = { 5, 8 }, Channels = { 3 }, Height = { 2 }, Width = { 4, 1 } };
        var layer = Create(p);
        var a = new Blob();
        var b = new Blob();
        layer.SetUp([], [a, b]);
        Assert.Equal([5, 3, 2, 4], a.Shape);
        Assert.Equal([8, 3, 2, 1], b.Shape);
        layer.Forward([], [a, b]);
        Assert.All(a.Data.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(b.Data.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Forward_ConstantFillsOnceGaussianRefills()
    {
        var p = new DummyDataParameter
        {
            Shape = { new BlobShape { Dim = { 2, 3 } }, new BlobShape { Dim = { 4 } } },
            DataFiller = { new FillerParameter { Type = "constant", Value = 7 }, new FillerParameter { Type = "gaussian", Std = 1 } },
        };
        Rng.Seed(1701);
        var layer = Create(p);
        var constant = new Blob();
        var noise = new Blob();
        layer.SetUp([], [constant, noise]);
        Assert.Equal([2, 3], constant.Shape);
        Assert.Equal([4], noise.Shape);
        Assert.All(constant.Data.ToArray(), v => Assert.Equal(7f, v));

        // The constant top is not rewritten by Forward (Caffe fills it once); the gaussian one changes every pass.
        constant.Data[0] = -1;
        layer.Forward([], [constant, noise]);
        var first = noise.Data.ToArray();
        layer.Forward([], [constant, noise]);
        Assert.Equal(-1f, constant.Data[0]);
        Assert.NotEqual(first, noise.Data.ToArray());
        Assert.Contains(first, v => v != 0);
    }

    [Fact]
    public void SetUp_SingleFillerAppliesToAllTops()
    {
        var p = new DummyDataParameter { Shape = { new BlobShape { Dim = { 3 } } }, DataFiller = { new FillerParameter { Type = "constant", Value = 2 } } };
        var layer = Create(p);
        var a = new Blob();
        var b = new Blob();
        layer.SetUp([], [a, b]);
        Assert.Equal([2f, 2f, 2f], a.Data.ToArray());
        Assert.Equal([2f, 2f, 2f], b.Data.ToArray());
    }

    [Fact]
    public void SetUp_ShapeAndLegacyFields_Throws()
    {
        var p = new DummyDataParameter { Shape = { new BlobShape { Dim = { 3 } } }, Num = { 2 } };
        var e = Assert.Throws<CremaException>(() => Create(p).SetUp([], [new Blob()]));
        Assert.Contains("'dummy'", e.Message, StringComparison.Ordinal);
        Assert.Contains("legacy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_WrongFillerCount_Throws()
    {
        var p = new DummyDataParameter
        {
            Shape = { new BlobShape { Dim = { 3 } } },
            DataFiller = { new FillerParameter(), new FillerParameter() },
        };
        var e = Assert.Throws<CremaException>(() => Create(p).SetUp([], [new Blob(), new Blob(), new Blob()]));
        Assert.Contains("got 2", e.Message, StringComparison.Ordinal);
    }
}
