using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class FlattenLayerTests
{
    private static FlattenLayer Make(int axis = 1, int endAxis = -1) =>
        new(new LayerParameter { Name = "flat", Type = "Flatten", FlattenParam = new FlattenParameter { Axis = axis, EndAxis = endAxis } });

    [Theory]
    [InlineData(1, -1, new[] { 2, 90 })]
    [InlineData(2, -1, new[] { 2, 3, 30 })]
    [InlineData(0, 1, new[] { 6, 6, 5 })]
    [InlineData(1, -2, new[] { 2, 18, 5 })]
    [InlineData(3, 3, new[] { 2, 3, 6, 5 })]
    public void Forward_MatchesReference(int axis, int endAxis, int[] expectedShape)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        var top = new Blob();
        var layer = Make(axis, endAxis);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Equal(expectedShape, top.Shape);
        // Row-major order is unchanged by flattening.
        Assert.Equal(bottom.Data.ToArray(), top.Data.ToArray());
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(), [bottom], [new Blob()]);
    }

    [Fact]
    public void SetUp_EndBeforeStart_NamesLayerAndAxes()
    {
        var e = Assert.Throws<CremaException>(() => Make(2, 1).SetUp([new Blob(2, 3, 6, 5)], [new Blob()]));
        Assert.Contains("'flat'", e.Message);
        Assert.Contains("end_axis 1", e.Message);
    }

    [Fact]
    public void SetUp_AxisOutOfRange_NamesAxis()
    {
        var e = Assert.Throws<CremaException>(() => Make(4).SetUp([new Blob(2, 3, 6, 5)], [new Blob()]));
        Assert.Contains("'flat'", e.Message);
        Assert.Contains("axis 4", e.Message);
    }
}
