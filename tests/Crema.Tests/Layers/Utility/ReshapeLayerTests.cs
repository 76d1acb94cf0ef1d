using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class ReshapeLayerTests
{
    private static ReshapeLayer Make(long[] dims, int axis = 0, int numAxes = -1)
    {
        var shape = new BlobShape();
        shape.Dim.AddRange(dims);
        return new(new LayerParameter { Name = "reshape", Type = "Reshape", ReshapeParam = new ReshapeParameter { Shape = shape, Axis = axis, NumAxes = numAxes } });
    }

    // Caffe's test_reshape_layer cases on a 2x3x6x5 bottom.
    [Theory]
    [InlineData(new long[] { 0, -1, 1, 1 }, 0, -1, new[] { 2, 90, 1, 1 })]
    [InlineData(new long[] { 0, 0, 0, 0 }, 0, -1, new[] { 2, 3, 6, 5 })]
    [InlineData(new long[] { 0, 3, 10, -1 }, 0, -1, new[] { 2, 3, 10, 3 })]
    [InlineData(new long[] { 1, 1, 1 }, 0, 0, new[] { 1, 1, 1, 2, 3, 6, 5 })]
    [InlineData(new long[] { 1, 1, 1 }, 2, 0, new[] { 2, 3, 1, 1, 1, 6, 5 })]
    [InlineData(new long[] { 1, 1, 1 }, -1, 0, new[] { 2, 3, 6, 5, 1, 1, 1 })]
    [InlineData(new long[] { -1 }, 1, 2, new[] { 2, 18, 5 })]
    [InlineData(new long[] { 6, -1 }, 0, -1, new[] { 6, 30 })]
    public void Forward_MatchesReference(long[] dims, int axis, int numAxes, int[] expected)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        var top = new Blob();
        var layer = Make(dims, axis, numAxes);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Equal(expected, top.Shape);
        Assert.Equal(bottom.Data.ToArray(), top.Data.ToArray());
    }

    [Fact]
    public void Forward_FollowsBottomReshape()
    {
        var bottom = new Blob(2, 3, 6, 5);
        var top = new Blob();
        var layer = Make([0, -1]);
        layer.SetUp([bottom], [top]);
        bottom.Reshape(4, 3, 6, 5);
        layer.Forward([bottom], [top]);
        Assert.Equal(new[] { 4, 90 }, top.Shape);
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make([0, -1]), [bottom], [new Blob()]);
    }

    [Fact]
    public void SetUp_TwoInferredDims_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make([-1, -1]).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'reshape'", e.Message);
        Assert.Contains("more than one -1", e.Message);
    }

    [Fact]
    public void SetUp_CountMismatch_NamesBothShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make([2, 7]).SetUp([new Blob(2, 3, 6, 5)], [new Blob()]));
        Assert.Contains("'reshape'", e.Message);
        Assert.Contains("(2, 7)", e.Message);
        Assert.Contains("(2, 3, 6, 5)", e.Message);
    }

    [Fact]
    public void SetUp_NotDivisible_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make([7, -1]).SetUp([new Blob(2, 3, 6, 5)], [new Blob()]));
        Assert.Contains("'reshape'", e.Message);
        Assert.Contains("180", e.Message);
    }
}
