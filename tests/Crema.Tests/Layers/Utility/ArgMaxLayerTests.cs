using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

public class ArgMaxLayerTests
{
    private static ArgMaxLayer Make(bool outMaxVal, uint topK, int? axis)
    {
        var p = new ArgMaxParameter { OutMaxVal = outMaxVal, TopK = topK };
        if (axis is int a)
        {
            p.Axis = a;
        }
        return new(new LayerParameter { Name = "argmax", Type = "ArgMax", ArgmaxParam = p });
    }

    // The indices of the k largest of values, largest first.
    private static int[] TopK(float[] values, int k) =>
        values.Select((v, i) => (v, i)).OrderByDescending(p => p.v).ThenByDescending(p => p.i).Take(k).Select(p => p.i).ToArray();

    [Theory]
    [InlineData(false, 1u)]
    [InlineData(true, 1u)]
    [InlineData(false, 4u)]
    [InlineData(true, 4u)]
    public void Forward_NoAxis_MatchesReference(bool outMaxVal, uint topK)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 10, 3, 4, 5);
        var top = new Blob();
        var layer = Make(outMaxVal, topK, null);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        int k = (int)topK;
        Assert.Equal(new[] { 10, outMaxVal ? 2 : 1, k, 1 }, top.Shape);
        for (int n = 0; n < 10; n++)
        {
            var row = bottom.Data.Slice(n * 60, 60).ToArray();
            var best = TopK(row, k);
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(best[j], top.Data[top.Offset(n, 0, j)]);
                if (outMaxVal)
                {
                    Assert.Equal(row[best[j]], top.Data[top.Offset(n, 1, j)]);
                }
            }
        }
    }

    [Theory]
    [InlineData(false, 1u, 1)]
    [InlineData(true, 2u, 1)]
    [InlineData(false, 3u, 3)]
    [InlineData(true, 1u, -2)]
    public void Forward_WithAxis_MatchesReference(bool outMaxVal, uint topK, int axis)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = Make(outMaxVal, topK, axis);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        int a = axis < 0 ? axis + 4 : axis, k = (int)topK;
        int outer = bottom.CountRange(0, a), dim = bottom.Shape[a], inner = bottom.CountFrom(a + 1);
        Assert.Equal(k, top.Shape[a]);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                var values = Enumerable.Range(0, dim).Select(d => bottom.Data[(o * dim + d) * inner + i]).ToArray();
                var best = TopK(values, k);
                for (int j = 0; j < k; j++)
                {
                    float expected = outMaxVal ? values[best[j]] : best[j];
                    Assert.Equal(expected, top.Data[(o * k + j) * inner + i]);
                }
            }
        }
    }

    [Fact]
    public void Backward_IsRefused()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3);
        var top = new Blob();
        var layer = Make(false, 1, null);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Throws<CremaException>(() => layer.Backward([top], [true], [bottom]));
    }

    [Fact]
    public void SetUp_TopKTooLarge_NamesValue()
    {
        var e = Assert.Throws<CremaException>(() => Make(false, 7, 1).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'argmax'", e.Message);
        Assert.Contains("top_k 7", e.Message);
    }
}
