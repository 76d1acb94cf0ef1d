using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class SliceLayerTests
{
    private static SliceLayer Make(int axis, params uint[] points)
    {
        var p = new SliceParameter { Axis = axis };
        p.SlicePoint.AddRange(points);
        return new(new LayerParameter { Name = "slice", Type = "Slice", SliceParam = p });
    }

    [Theory]
    [InlineData(0, new uint[] { 1, 4 }, 3)]
    [InlineData(1, new uint[] { 1, 2 }, 3)]
    [InlineData(1, new uint[0], 3)]
    [InlineData(2, new uint[] { 5 }, 2)]
    public void Forward_MatchesReference(int axis, uint[] points, int tops)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 6, 3, 6, 5);
        var top = Enumerable.Range(0, tops).Select(_ => new Blob()).ToArray();
        var layer = Make(axis, points);
        layer.SetUp([bottom], top);
        layer.Forward([bottom], top);

        int dim = bottom.Shape[axis];
        int[] starts = [0, .. points.Select(p => (int)p)];
        if (points.Length == 0)
        {
            starts = Enumerable.Range(0, tops).Select(t => t * dim / tops).ToArray();
        }
        for (int t = 0; t < tops; t++)
        {
            int size = (t + 1 < tops ? starts[t + 1] : dim) - starts[t];
            Assert.Equal(size, top[t].Shape[axis]);
            var index = new int[4];
            for (int i = 0; i < top[t].Count; i++)
            {
                int rem = i;
                for (int d = 3; d >= 0; d--)
                {
                    index[d] = rem % top[t].Shape[d];
                    rem /= top[t].Shape[d];
                }
                index[axis] += starts[t];
                Assert.Equal(bottom.Data[bottom.Offset(index)], top[t].Data[i]);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Backward_MatchesNumericGradient(int axis)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 6, 3, 6, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(axis, 1, 2), [bottom], [new Blob(), new Blob(), new Blob()]);
    }

    [Fact]
    public void SetUp_WrongPointCount_NamesLayer()
    {
        var e = Assert.Throws<CremaException>(() => Make(1, 1).SetUp([new Blob(2, 3)], [new Blob(), new Blob(), new Blob()]));
        Assert.Contains("'slice'", e.Message);
        Assert.Contains("1 slice_point", e.Message);
    }

    [Fact]
    public void SetUp_NotDivisible_NamesShape()
    {
        var e = Assert.Throws<CremaException>(() => Make(1).SetUp([new Blob(2, 3)], [new Blob(), new Blob()]));
        Assert.Contains("'slice'", e.Message);
        Assert.Contains("(2, 3)", e.Message);
    }

    [Fact]
    public void SetUp_PointOutsideAxis_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make(1, 3).SetUp([new Blob(2, 3)], [new Blob(), new Blob()]));
        Assert.Contains("slice_point 3", e.Message);
    }
}
