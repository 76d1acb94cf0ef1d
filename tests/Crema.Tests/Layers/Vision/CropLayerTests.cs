using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class CropLayerTests
{
    private static LayerParameter Param(int axis, params uint[] offsets) =>
        new() { Name = "crop", Type = "Crop", CropParam = new CropParameter { Axis = axis, Offset = { offsets } } };

    // (axis, offsets, expected per-axis offsets)
    public static TheoryData<int, uint[], int[]> Cases => new()
    {
        { 0, [0, 1, 1, 2], [0, 1, 1, 2] },
        { 2, [], [0, 0, 0, 0] },
        { 2, [1], [0, 0, 1, 1] },
        { 1, [1], [0, 1, 1, 1] },
        { -1, [2], [0, 0, 0, 2] },
        { -2, [1, 2], [0, 0, 1, 2] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(int axis, uint[] offsets, int[] expectedOffsets)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 4, 5, 4);
        var reference = new Blob(2, 3, 4, 2);
        var top = new Blob();
        var layer = new CropLayer(Param(axis, offsets));
        layer.SetUp([x, reference], [top]);
        layer.Forward([x, reference], [top]);
        int first = axis < 0 ? axis + 4 : axis;
        int[] shape = [.. x.Shape.Take(first), .. reference.Shape.Skip(first)];
        Assert.Equal(shape, top.Shape);
        for (int n = 0; n < shape[0]; n++)
        {
            for (int c = 0; c < shape[1]; c++)
            {
                for (int h = 0; h < shape[2]; h++)
                {
                    for (int w = 0; w < shape[3]; w++)
                    {
                        float expected = x.Data[x.Offset(n + expectedOffsets[0], c + expectedOffsets[1], h + expectedOffsets[2], w + expectedOffsets[3])];
                        Assert.Equal(expected, top.Data[top.Offset(n, c, h, w)]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 4, 5, 4);
        var reference = TestBlobs.Gaussian(1702, 1f, 2, 3, 4, 2);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(new CropLayer(Param(1, 1, 0, 2)), [x, reference], [new Blob()]);
    }

    [Fact]
    public void BadParameters_Throw()
    {
        var ex = Assert.Throws<CremaException>(() =>
            new CropLayer(Param(2, 2)).SetUp([new Blob(2, 4, 5, 4), new Blob(2, 3, 4, 2)], [new Blob()]));
        Assert.Contains("'crop'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("crop of size 4 at offset 2 does not fit in bottom 0's axis 2 of size 5", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<CremaException>(() =>
            new CropLayer(Param(2, 1, 1, 1)).SetUp([new Blob(2, 4, 5, 4), new Blob(2, 3, 4, 2)], [new Blob()]));
        Assert.Contains("offset must be given once or once per cropped axis (2), got 3 values", ex.Message, StringComparison.Ordinal);
    }
}
