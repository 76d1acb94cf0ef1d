using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using PoolMethod = Crema.Proto.SPPParameter.Types.PoolMethod;

namespace Crema.Tests.Layers;

public class SPPLayerTests
{
    private static LayerParameter Param(int height, PoolMethod method = PoolMethod.Max) =>
        new() { Name = "spp", Type = "SPP", SppParam = new SPPParameter { PyramidHeight = (uint)height, Pool = method } };

    [Theory]
    [InlineData(2, 3, 9, 8, 3, 63)]
    [InlineData(10, 3, 7, 7, 3, 63)]
    [InlineData(1, 2, 5, 6, 2, 10)]
    public void Setup_GivesCaffesShapes(int n, int c, int h, int w, int height, int channels)
    {
        var top = new Blob();
        new SPPLayer(Param(height)).SetUp([new Blob(n, c, h, w)], [top]);
        Assert.Equal([n, channels], top.Shape);
    }

    [Fact]
    public void Forward_ConcatenatesLevels()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 4);
        var top = new Blob();
        var layer = new SPPLayer(Param(2));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Equal([2, 15], top.Shape);
        for (int n = 0; n < 2; n++)
        {
            for (int c = 0; c < 3; c++)
            {
                float Max(int h0, int w0, int size)
                {
                    float best = float.MinValue;
                    for (int h = h0; h < h0 + size; h++)
                    {
                        for (int w = w0; w < w0 + size; w++)
                        {
                            best = Math.Max(best, bottom.Data[bottom.Offset(n, c, h, w)]);
                        }
                    }
                    return best;
                }
                // Level 0: one bin per channel; level 1: 2x2 bins of 2x2 after all level-0 values.
                Assert.Equal(Max(0, 0, 4), top.Data[n * 15 + c]);
                for (int bin = 0; bin < 4; bin++)
                {
                    Assert.Equal(Max(bin / 2 * 2, bin % 2 * 2, 2), top.Data[n * 15 + 3 + c * 4 + bin]);
                }
            }
        }
    }

    [Fact]
    public void PyramidHeightOne_IsGlobalPooling()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = new SPPLayer(Param(1, PoolMethod.Ave));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Equal([2, 3, 1, 1], top.Shape);
        Assert.Equal(bottom.Data[..20].ToArray().Average(), top.Data[0], 1e-5f);
    }

    [Theory]
    [InlineData(PoolMethod.Max)]
    [InlineData(PoolMethod.Ave)]
    public void Backward_MatchesNumericGradient(PoolMethod method)
    {
        var bottom = new Blob(2, 2, 6, 7);
        var values = Enumerable.Range(0, bottom.Count).Select(i => i * 0.1f - 4f).ToArray();
        new Random(1701).Shuffle(values);
        values.CopyTo(bottom.Data);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(new SPPLayer(Param(3, method)), [bottom], [new Blob()]);
    }

    [Fact]
    public void MissingPyramidHeight_Throws()
    {
        var layer = new SPPLayer(new LayerParameter { Name = "spp", Type = "SPP" });
        var ex = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(1, 1, 4, 4)], [new Blob()]));
        Assert.Contains("'spp'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pyramid_height", ex.Message, StringComparison.Ordinal);
    }
}
