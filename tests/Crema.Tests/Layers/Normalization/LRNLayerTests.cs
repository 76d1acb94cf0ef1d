using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using NormRegion = Crema.Proto.LRNParameter.Types.NormRegion;

namespace Crema.Tests.Layers;

public class LRNLayerTests
{
    private static readonly int[] Shape = [2, 7, 3, 3];

    private static LayerParameter Param(NormRegion region, uint size = 5, float alpha = 1, float beta = 0.75f, float k = 1) => new()
    {
        Name = "norm",
        Type = "LRN",
        LrnParam = new LRNParameter { NormRegion = region, LocalSize = size, Alpha = alpha, Beta = beta, K = k },
    };

    // Caffe's test reference: across channels, s = k + α/n · Σ x² over channels [c − (n−1)/2, c + n/2] clipped; within a channel,
    // s = 1 + α/n² · Σ x² over the clipped n×n window. y = x · s^−β.
    private static float[] Reference(Blob x, NormRegion region, int size, double alpha, double beta, double k)
    {
        int num = x.Num, channels = x.Channels, height = x.Height, width = x.Width, pre = (size - 1) / 2;
        var y = new float[x.Count];
        for (int n = 0; n < num; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int h = 0; h < height; h++)
                {
                    for (int w = 0; w < width; w++)
                    {
                        double scale;
                        if (region == NormRegion.AcrossChannels)
                        {
                            double sum = 0;
                            for (int j = Math.Max(0, c - pre); j < Math.Min(channels, c + size / 2 + 1); j++)
                            {
                                double v = x.Data[x.Offset(n, j, h, w)];
                                sum += v * v;
                            }
                            scale = k + alpha / size * sum;
                        }
                        else
                        {
                            double sum = 0;
                            for (int i = Math.Max(0, h - pre); i < Math.Min(height, h + pre + 1); i++)
                            {
                                for (int j = Math.Max(0, w - pre); j < Math.Min(width, w + pre + 1); j++)
                                {
                                    double v = x.Data[x.Offset(n, c, i, j)];
                                    sum += v * v;
                                }
                            }
                            scale = 1 + alpha / (size * size) * sum;
                        }
                        int index = x.Offset(n, c, h, w);
                        y[index] = (float)(x.Data[index] * Math.Pow(scale, -beta));
                    }
                }
            }
        }
        return y;
    }

    [Theory]
    [InlineData(NormRegion.AcrossChannels, 5u, 1f, 0.75f, 1f, 3, 3)]
    [InlineData(NormRegion.AcrossChannels, 15u, 1f, 0.75f, 1f, 3, 3)]
    [InlineData(NormRegion.AcrossChannels, 3u, 0.3f, 1.5f, 2f, 4, 5)]
    [InlineData(NormRegion.AcrossChannels, 1u, 2f, 0.5f, 0.5f, 3, 3)]
    [InlineData(NormRegion.WithinChannel, 3u, 1f, 0.75f, 1f, 3, 3)]
    [InlineData(NormRegion.WithinChannel, 5u, 0.7f, 0.6f, 1f, 4, 6)]
    [InlineData(NormRegion.WithinChannel, 7u, 2f, 1f, 1f, 3, 2)]
    public void Forward_MatchesReference(NormRegion region, uint size, float alpha, float beta, float k, int height, int width)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 7, height, width);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(region, size, alpha, beta, k));
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        Assert.Equal(x.Shape, top.Shape);
        TestBlobs.AssertClose(Reference(x, region, (int)size, alpha, beta, k), top.Data, 1e-5f);
    }

    // Batch 1 with enough elements for 2 parts: the forward splits the channels between the threads (each part reading
    // its neighbours' channels inside the window); in place it must not, and gives the out-of-place result.
    [Theory]
    [InlineData(NormRegion.AcrossChannels, 5u, 0.75f, false)]
    [InlineData(NormRegion.AcrossChannels, 9u, 1.3f, false)]
    [InlineData(NormRegion.AcrossChannels, 5u, 0.75f, true)]
    [InlineData(NormRegion.WithinChannel, 3u, 0.75f, false)]
    [InlineData(NormRegion.WithinChannel, 5u, 0.5f, true)]
    public void Forward_BatchOneSplitByChannels_MatchesReference(NormRegion region, uint size, float beta, bool inPlace)
    {
        int saved = Crema.Kernels.Gemm.ThreadCount;
        try
        {
            Crema.Kernels.Gemm.ThreadCount = 2;
            var x = TestBlobs.Gaussian(1701, 1f, 1, 97, 27, 27);
            var expected = Reference(x, region, (int)size, 1, beta, 2);
            var top = inPlace ? x : new Blob();
            var layer = LayerRegistry.Create(Param(region, size, 1, beta, 2));
            layer.SetUp([x], [top]);
            layer.Forward([x], [top]);
            TestBlobs.AssertClose(expected, top.Data, 1e-5f);
        }
        finally
        {
            Crema.Kernels.Gemm.ThreadCount = saved;
        }
    }

    // Caffe's WITHIN_CHANNEL path fixes the shift at 1 (its Power layer), so k has no effect there.
    [Fact]
    public void Forward_WithinChannel_IgnoresK()
    {
        var x = TestBlobs.Gaussian(1701, 1f, Shape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(NormRegion.WithinChannel, 3, k: 5));
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        TestBlobs.AssertClose(Reference(x, NormRegion.WithinChannel, 3, 1, 0.75, 1), top.Data, 1e-5f);
    }

    [Theory]
    [InlineData(NormRegion.AcrossChannels, 5u, 0.75f, 1f)]
    [InlineData(NormRegion.AcrossChannels, 15u, 0.75f, 1f)]
    [InlineData(NormRegion.AcrossChannels, 3u, 1.5f, 2f)]
    [InlineData(NormRegion.WithinChannel, 3u, 0.75f, 1f)]
    [InlineData(NormRegion.WithinChannel, 5u, 1.5f, 1f)]
    public void Backward_MatchesNumericGradient(NormRegion region, uint size, float beta, float k)
    {
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(region, size, 1, beta, k)),
            [TestBlobs.Gaussian(1701, 1f, 2, 7, 3, 4)], [new Blob()]);
    }

    [Theory]
    [InlineData(NormRegion.AcrossChannels)]
    [InlineData(NormRegion.WithinChannel)]
    public void InPlace_MatchesOutOfPlace(NormRegion region)
    {
        float[] dy = TestBlobs.Uniform(7, -1, 1, Shape).Data.ToArray();
        (float[] Y, float[] Dx) Run(bool inPlace)
        {
            var x = TestBlobs.Gaussian(1701, 1f, Shape);
            var top = inPlace ? x : new Blob();
            var layer = LayerRegistry.Create(Param(region, 3));
            layer.SetUp([x], [top]);
            layer.Forward([x], [top]);
            float[] y = top.Data.ToArray();
            dy.CopyTo(top.Diff);
            layer.Backward([top], [true], [x]);
            return (y, x.Diff.ToArray());
        }
        var a = Run(false);
        var b = Run(true);
        Assert.Equal(a.Y, b.Y);
        TestBlobs.AssertClose(a.Dx, b.Dx, 1e-5f);
    }

    [Fact]
    public void EvenLocalSize_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(NormRegion.AcrossChannels, 4)).SetUp([new Blob(Shape)], [new Blob()]));
        Assert.Contains("'norm'", e.Message);
        Assert.Contains("local_size must be odd, got 4", e.Message);
    }

    [Fact]
    public void NonFourAxisBottom_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(NormRegion.AcrossChannels)).SetUp([new Blob(2, 7, 3)], [new Blob()]));
        Assert.Contains("'norm'", e.Message);
        Assert.Contains("got 3", e.Message);
    }
}
