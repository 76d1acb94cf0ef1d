using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class FilterLayerTests
{
    private static FilterLayer Make() => new(new LayerParameter { Name = "filter", Type = "Filter" });

    [Fact]
    public void Forward_KeepsSelectedRows()
    {
        var data = TestBlobs.Gaussian(1701, 1f, 4, 3, 6, 4);
        var labels = TestBlobs.FromValues([4], 0, 1, 2, 3);
        var selector = TestBlobs.FromValues([4, 1], 0, 1, 0, 1);
        Blob top0 = new(), top1 = new();
        var layer = Make();
        layer.SetUp([data, labels, selector], [top0, top1]);
        layer.Forward([data, labels, selector], [top0, top1]);
        Assert.Equal(new[] { 2, 3, 6, 4 }, top0.Shape);
        Assert.Equal(new[] { 1f, 3f }, top1.Data.ToArray());
        Assert.Equal(data.Data.Slice(72, 72).ToArray(), top0.Data[..72].ToArray());
        Assert.Equal(data.Data.Slice(216, 72).ToArray(), top0.Data[72..].ToArray());
    }

    [Fact]
    public void Backward_MatchesNumericGradient_AndZeroesDroppedRows()
    {
        var data = TestBlobs.Gaussian(1701, 1f, 4, 3, 2, 2);
        var selector = TestBlobs.FromValues([4], 1, 0, 0, 1);
        var layer = Make();
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [data, selector], [new Blob()], checkBottom: 0);
        Assert.All(data.Diff.Slice(12, 24).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void SetUp_SizesTopsToBatch_ForwardToSelection()
    {
        var data = TestBlobs.Gaussian(1701, 1f, 4, 3);
        var selector = new Blob(4);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([data, selector], [top]);
        Assert.Equal(new[] { 4, 3 }, top.Shape);
        layer.Forward([data, selector], [top]);
        Assert.Equal(new[] { 0, 3 }, top.Shape);
    }

    [Fact]
    public void SetUp_ItemCountMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(4, 3), new Blob(5)], [new Blob()]));
        Assert.Contains("'filter'", e.Message);
        Assert.Contains("(4, 3)", e.Message);
    }

    [Fact]
    public void SetUp_WrongTopCount_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(4, 3), new Blob(4)], [new Blob(), new Blob()]));
        Assert.Contains("'filter'", e.Message);
    }
}
