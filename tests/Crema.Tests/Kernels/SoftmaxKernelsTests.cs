using Crema.Kernels;

namespace Crema.Tests.Kernels;

public class SoftmaxKernelsTests
{
    // Naive twin in double precision: y = exp(x − max) / Σ exp(x − max) per (outer, inner) column.
    private static float[] NaiveForward(int outer, int channels, int inner, float[] x)
    {
        var y = new float[x.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int c = 0; c < channels; c++)
                {
                    max = Math.Max(max, x[(o * channels + c) * inner + i]);
                }
                for (int c = 0; c < channels; c++)
                {
                    sum += Math.Exp(x[(o * channels + c) * inner + i] - max);
                }
                for (int c = 0; c < channels; c++)
                {
                    int k = (o * channels + c) * inner + i;
                    y[k] = (float)(Math.Exp(x[k] - max) / sum);
                }
            }
        }
        return y;
    }

    private static float[] NaiveBackward(int outer, int channels, int inner, float[] y, float[] dy)
    {
        var dx = new float[y.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                double dot = 0;
                for (int c = 0; c < channels; c++)
                {
                    int k = (o * channels + c) * inner + i;
                    dot += (double)dy[k] * y[k];
                }
                for (int c = 0; c < channels; c++)
                {
                    int k = (o * channels + c) * inner + i;
                    dx[k] = (float)((dy[k] - dot) * y[k]);
                }
            }
        }
        return dx;
    }

    private static float[] Random(int seed, int n, float scale)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Fact]
    public void Forward_And_Backward_MatchNaive_AtEveryChannelCount()
    {
        foreach (int inner in new[] { 1, 3 })
        {
            for (int channels = 0; channels <= 256; channels++)
            {
                const int outer = 2;
                int n = outer * channels * inner;
                var x = Random(channels, n, 20f);
                var y = new float[n];
                SoftmaxKernels.Forward(outer, channels, inner, x, y);
                TestBlobs.AssertClose(NaiveForward(outer, channels, inner, x), y, 1e-5f);

                var dy = Random(channels + 1000, n, 1f);
                var dx = new float[n];
                SoftmaxKernels.Backward(outer, channels, inner, y, dy, dx);
                TestBlobs.AssertClose(NaiveBackward(outer, channels, inner, y, dy), dx, 1e-5f);
            }
        }
    }

    [Fact]
    public void Forward_InPlace_MatchesNaive()
    {
        var x = Random(7, 2 * 37, 50f);
        var expected = NaiveForward(2, 37, 1, x);
        SoftmaxKernels.Forward(2, 37, 1, x, x);
        TestBlobs.AssertClose(expected, x, 1e-5f);
    }
}
