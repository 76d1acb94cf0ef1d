using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class ConcatLayerTests
{
    private static ConcatLayer Make(ConcatParameter? p = null) => new(new LayerParameter { Name = "concat", Type = "Concat", ConcatParam = p });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void Forward_MatchesReference(int axis) => CheckForward(axis, [2, 3, 6, 5], a => a == 0 ? 5 : 4);

    // Tops of ≥ 143 K floats: two parts (64 Ki floats each at least), each copying an aligned slice of the top from
    // whichever bottoms it comes from, slices that start and end inside a bottom's run.
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    public void Forward_OnTwoThreads_MatchesReference(int axis, int num)
    {
        int saved = Crema.Kernels.Gemm.ThreadCount;
        try
        {
            Crema.Kernels.Gemm.ThreadCount = 2;
            CheckForward(axis, [num, 40, 33, 67], a => a == 0 ? 2 : 25);
        }
        finally
        {
            Crema.Kernels.Gemm.ThreadCount = saved;
        }
    }

    private static void CheckForward(int axis, int[] shapeA, Func<int, int> otherSize)
    {
        int[] shapeB = [.. shapeA];
        int a = axis < 0 ? axis + 4 : axis;
        shapeB[a] = otherSize(a);
        var x0 = TestBlobs.Gaussian(1701, 1f, shapeA);
        var x1 = TestBlobs.Gaussian(1702, 1f, shapeB);
        var top = new Blob();
        var layer = Make(new ConcatParameter { Axis = axis });
        layer.SetUp([x0, x1], [top]);
        layer.Forward([x0, x1], [top]);

        int[] expectedShape = [.. shapeA];
        expectedShape[a] += shapeB[a];
        Assert.Equal(expectedShape, top.Shape);
        // Every top element comes from the bottom that owns its index along the axis.
        var index = new int[4];
        for (int i = 0; i < top.Count; i++)
        {
            int rem = i;
            for (int d = 3; d >= 0; d--)
            {
                index[d] = rem % expectedShape[d];
                rem /= expectedShape[d];
            }
            float expected;
            if (index[a] < shapeA[a])
            {
                expected = x0.Data[x0.Offset(index)];
            }
            else
            {
                index[a] -= shapeA[a];
                expected = x1.Data[x1.Offset(index)];
            }
            Assert.Equal(expected, top.Data[i]);
        }
    }

    [Fact]
    public void Forward_LegacyConcatDim()
    {
        var x0 = TestBlobs.Gaussian(1701, 1f, 2, 3);
        var x1 = TestBlobs.Gaussian(1702, 1f, 4, 3);
        var top = new Blob();
        var layer = Make(new ConcatParameter { ConcatDim = 0 });
        layer.SetUp([x0, x1], [top]);
        layer.Forward([x0, x1], [top]);
        Assert.Equal(new[] { 6, 3 }, top.Shape);
        Assert.Equal([.. x0.Data.ToArray(), .. x1.Data.ToArray()], top.Data.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Backward_MatchesNumericGradient(int axis)
    {
        var x0 = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        var x1 = TestBlobs.Gaussian(1702, 1f, 2, 3, 6, 5);
        var x2 = TestBlobs.Gaussian(1703, 1f, 2, 3, 6, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(new ConcatParameter { Axis = axis }), [x0, x1, x2], [new Blob()]);
    }

    [Fact]
    public void SetUp_OffAxisMismatch_ListsShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(2, 3, 6, 5), new Blob(2, 4, 7, 5)], [new Blob()]));
        Assert.Contains("'concat'", e.Message);
        Assert.Contains("(2, 4, 7, 5)", e.Message);
        Assert.Contains("(2, 3, 6, 5)", e.Message);
    }

    [Fact]
    public void SetUp_AxisAndConcatDim_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make(new ConcatParameter { Axis = 1, ConcatDim = 1 }).SetUp([new Blob(2, 3), new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'concat'", e.Message);
    }
}
