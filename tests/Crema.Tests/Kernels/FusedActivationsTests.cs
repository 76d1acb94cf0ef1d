using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>The fused inference epilogues against naive loops at every length 0..256 (vector body and every tail), also in place.</summary>
public class FusedActivationsTests
{
    [Theory]
    [InlineData(0f, 0.4f)]
    [InlineData(0f, -1.3f)]
    [InlineData(0.1f, 0.25f)]
    [InlineData(-0.3f, 0f)]
    public void BiasLeakyRelu_MatchesNaive_AtEveryLength(float slope, float bias)
    {
        for (int n = 0; n <= 256; n++)
        {
            float[] x = Values(n, 1);
            if (n > 2)
            {
                x[1] = -bias; // exactly 0 after the bias: the kink
            }
            var expected = new float[n];
            for (int i = 0; i < n; i++)
            {
                float v = x[i] + bias;
                expected[i] = v > 0 ? v : slope * v;
            }
            var y = new float[n];
            FusedActivations.BiasLeakyRelu(x, bias, y, slope);
            TestBlobs.AssertClose(expected, y, 1e-6f);
            FusedActivations.BiasLeakyRelu(x, bias, x, slope);
            TestBlobs.AssertClose(expected, x, 1e-6f);
        }
    }

    [Theory]
    [InlineData(0f, 1f, 1f)]
    [InlineData(0f, 0.5f, -2f)]
    [InlineData(0.2f, 1f, 1f)]
    [InlineData(-0.1f, -1f, 0.3f)]
    public void ScaledSumLeakyRelu_MatchesNaive_AtEveryLength(float slope, float ca, float cb)
    {
        for (int n = 0; n <= 256; n++)
        {
            float[] a = Values(n, 2), b = Values(n, 3);
            var expected = new float[n];
            for (int i = 0; i < n; i++)
            {
                float v = (ca * a[i]) + (cb * b[i]);
                expected[i] = v > 0 ? v : slope * v;
            }
            var y = new float[n];
            FusedActivations.ScaledSumLeakyRelu(a, ca, b, cb, y, slope);
            TestBlobs.AssertClose(expected, y, 1e-6f);
            // In place on either input.
            var a2 = (float[])a.Clone();
            FusedActivations.ScaledSumLeakyRelu(a2, ca, b, cb, a2, slope);
            TestBlobs.AssertClose(expected, a2, 1e-6f);
            FusedActivations.ScaledSumLeakyRelu(a, ca, b, cb, b, slope);
            TestBlobs.AssertClose(expected, b, 1e-6f);
        }
    }

    [Fact]
    public void ScaledSumLeakyRelu_LongSpanRunsInParallelSlicesWithSameResult()
    {
        // Above Elementwise.ParallelMinLength the work is split across the pool; every element must still match.
        int n = Elementwise.ParallelMinLength + 37;
        float[] a = Values(n, 4), b = Values(n, 5);
        var y = new float[n];
        FusedActivations.ScaledSumLeakyRelu(a, 1f, b, 1f, y, 0f);
        for (int i = 0; i < n; i++)
        {
            float v = a[i] + b[i];
            Assert.Equal(v > 0 ? v : 0f, y[i]);
        }
    }

    private static float[] Values(int n, int seed)
    {
        var r = new Random((seed * 1000) + n);
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((r.NextDouble() * 6) - 3);
        }
        return v;
    }
}
