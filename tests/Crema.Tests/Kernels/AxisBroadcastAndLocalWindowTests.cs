using Crema.Kernels;

namespace Crema.Tests.Kernels;

// The Scale/Bias and LRN kernels against naive loops, over every inner length 0..256 (vector blocks and tails) and window sizes.
public class AxisBroadcastAndLocalWindowTests
{
    // NOTE: a blob's Data is native memory its finalizer frees; the blob stays alive until the copy is made.
    private static float[] Random(int seed, int n)
    {
        var blob = TestBlobs.Uniform(seed, -1, 1, n);
        var values = blob.Data.ToArray();
        GC.KeepAlive(blob);
        return values;
    }

    [Fact]
    public void AxisBroadcast_MatchesNaive_EveryInnerLength()
    {
        const int outer = 2, dim = 3;
        for (int inner = 0; inner <= 256; inner++)
        {
            int count = outer * dim * inner;
            float[] x = Random(inner, count), b = Random(inner + 1000, count), p = Random(7, dim);
            float[] mul = new float[count], add = new float[count], sum = [1, 2, 3], dot = [1, 2, 3];
            AxisBroadcast.Multiply(x, p, mul, outer, dim, inner);
            AxisBroadcast.Add(x, p, add, outer, dim, inner);
            AxisBroadcast.SumInto(x, sum, outer, dim, inner, accumulate: true);
            AxisBroadcast.DotInto(x, b, dot, outer, dim, inner, accumulate: false);
            var expectedSum = new double[] { 1, 2, 3 };
            var expectedDot = new double[dim];
            for (int i = 0; i < count; i++)
            {
                int d = i / inner % dim;
                Assert.Equal(x[i] * p[d], mul[i]);
                Assert.Equal(x[i] + p[d], add[i]);
                expectedSum[d] += x[i];
                expectedDot[d] += (double)x[i] * b[i];
            }
            for (int d = 0; d < dim; d++)
            {
                Assert.Equal(expectedSum[d], sum[d], 1e-3);
                Assert.Equal(expectedDot[d], dot[d], 1e-3);
            }
        }
    }

    [Fact]
    public void ChannelSum_MatchesNaive()
    {
        foreach (int plane in new[] { 0, 1, 7, 33 })
        {
            for (int channels = 1; channels <= 9; channels++)
            {
                for (int half = 0; half <= 5; half++)
                {
                    float[] x = Random(channels * 100 + plane, channels * plane), y = new float[x.Length];
                    LocalWindow.ChannelSum(x, y, channels, plane, half);
                    for (int c = 0; c < channels; c++)
                    {
                        for (int i = 0; i < plane; i++)
                        {
                            double expected = 0;
                            for (int j = c - half; j <= c + half; j++)
                            {
                                expected += j >= 0 && j < channels ? x[j * plane + i] : 0;
                            }
                            Assert.Equal(expected, y[c * plane + i], 1e-5);
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void SpatialSum_MatchesNaive()
    {
        for (int height = 1; height <= 6; height++)
        {
            for (int width = 1; width <= 19; width += 3)
            {
                for (int half = 0; half <= 3; half++)
                {
                    float[] x = Random(height * 31 + width, height * width), y = new float[x.Length], scratch = new float[x.Length];
                    LocalWindow.SpatialSum(x, y, scratch, height, width, half);
                    for (int h = 0; h < height; h++)
                    {
                        for (int w = 0; w < width; w++)
                        {
                            double expected = 0;
                            for (int i = Math.Max(0, h - half); i <= Math.Min(height - 1, h + half); i++)
                            {
                                for (int j = Math.Max(0, w - half); j <= Math.Min(width - 1, w + half); j++)
                                {
                                    expected += x[i * width + j];
                                }
                            }
                            Assert.Equal(expected, y[h * width + w], 1e-5);
                        }
                    }
                }
            }
        }
    }
}
