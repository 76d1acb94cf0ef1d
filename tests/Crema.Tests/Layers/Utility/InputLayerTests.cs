using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

public class InputLayerTests
{
    private static BlobShape ShapeOf(params long[] dims)
    {
        var s = new BlobShape();
        s.Dim.AddRange(dims);
        return s;
    }

    private static InputLayer Make(params BlobShape[] shapes)
    {
        var p = new InputParameter();
        p.Shape.AddRange(shapes);
        return new InputLayer(new LayerParameter { Name = "data", Type = "Input", InputParam = p });
    }

    [Fact]
    public void SetUp_OneShape_AppliesToEveryTop()
    {
        var tops = new[] { new Blob(), new Blob() };
        Make(ShapeOf(64, 1, 28, 28)).SetUp([], tops);
        Assert.All(tops, t => Assert.Equal(new[] { 64, 1, 28, 28 }, t.Shape));
    }

    [Fact]
    public void SetUp_OneShapePerTop()
    {
        var tops = new[] { new Blob(), new Blob() };
        Make(ShapeOf(64, 1, 28, 28), ShapeOf(64)).SetUp([], tops);
        Assert.Equal(new[] { 64, 1, 28, 28 }, tops[0].Shape);
        Assert.Equal(new[] { 64 }, tops[1].Shape);
    }

    [Fact]
    public void Forward_KeepsShapeTheUserSetAndData()
    {
        var top = new Blob();
        var layer = Make(ShapeOf(2, 3));
        layer.SetUp([], [top]);
        top.Reshape(5, 3);
        top.Data.Fill(7);
        layer.Forward([], [top]);
        Assert.Equal(new[] { 5, 3 }, top.Shape);
        Assert.All(top.Data.ToArray(), v => Assert.Equal(7f, v));
    }

    [Fact]
    public void SetUp_ShapeCountMismatch_NamesLayerAndCounts()
    {
        var e = Assert.Throws<CremaException>(() => Make(ShapeOf(1), ShapeOf(2)).SetUp([], [new Blob(), new Blob(), new Blob()]));
        Assert.Contains("'data'", e.Message);
        Assert.Contains("3 top(s) vs. 2 shape(s)", e.Message);
    }

    [Fact]
    public void SetUp_WithBottom_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make(ShapeOf(1)).SetUp([new Blob(1)], [new Blob()]));
        Assert.Contains("'data'", e.Message);
    }
}
