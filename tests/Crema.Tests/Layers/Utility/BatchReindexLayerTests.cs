using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class BatchReindexLayerTests
{
    private static BatchReindexLayer Make() => new(new LayerParameter { Name = "reindex", Type = "BatchReindex" });

    [Fact]
    public void Forward_MatchesReference()
    {
        // Caffe's test: bottom 5x4x3x2 with permutation [4, 0, 4, 0, 1, 2].
        var bottom = TestBlobs.Gaussian(1701, 1f, 5, 4, 3, 2);
        var index = TestBlobs.FromValues([6], 4, 0, 4, 0, 1, 2);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([bottom, index], [top]);
        layer.Forward([bottom, index], [top]);
        Assert.Equal(new[] { 6, 4, 3, 2 }, top.Shape);
        int[] perm = [4, 0, 4, 0, 1, 2];
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(bottom.Data.Slice(perm[i] * 24, 24).ToArray(), top.Data.Slice(i * 24, 24).ToArray());
        }
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 5, 4, 3, 2);
        var index = TestBlobs.FromValues([6], 4, 0, 4, 0, 1, 2);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(), [bottom, index], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void Forward_IndexOutOfRange_NamesLayerAndIndex()
    {
        var bottom = new Blob(5, 2);
        var index = TestBlobs.FromValues([2], 1, 5);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([bottom, index], [top]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([bottom, index], [top]));
        Assert.Contains("'reindex'", e.Message);
        Assert.Contains("index 5", e.Message);
    }
}
