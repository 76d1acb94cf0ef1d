using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>LRN's s^−β against MathF.Pow at every length 0..256 (vector bodies and tails) for the special and general β.</summary>
public class LrnKernelsTests
{
    public static TheoryData<float> Betas => [0.75f, 0.5f, 1f, 0.6f, 1.5f, 2f];

    [Theory]
    [MemberData(nameof(Betas))]
    public void NegativePower_And_ScaleByNegativePower_MatchPow(float beta)
    {
        var rng = new Random(1701);
        for (int n = 0; n <= 256; n++)
        {
            // s as LRN makes it: k + α/n·Σx², from just above 0 to large
            float[] s = Enumerable.Range(0, n).Select(_ => (float)(1e-3 + (rng.NextDouble() * rng.NextDouble() * 500))).ToArray();
            float[] x = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 8) - 4)).ToArray();
            var power = new float[n];
            var y = new float[n];
            LrnKernels.NegativePower(s, beta, power);
            LrnKernels.ScaleByNegativePower(x, s, beta, y);
            for (int i = 0; i < n; i++)
            {
                double expected = Math.Pow(s[i], -beta);
                Assert.True(Math.Abs(power[i] - expected) <= 4e-6 * expected, $"n={n} i={i}: {s[i]}^-{beta} = {power[i]}, expected {expected}");
                double expectedY = x[i] * expected;
                Assert.True(Math.Abs(y[i] - expectedY) <= 4e-6 * Math.Abs(expectedY) + 1e-30, $"n={n} i={i}: y {y[i]}, expected {expectedY}");
            }
        }
    }

    [Fact]
    public void InPlace_GivesTheSameValues()
    {
        float[] s = Enumerable.Range(1, 100).Select(i => i * 0.37f).ToArray();
        var expected = new float[s.Length];
        LrnKernels.NegativePower(s, 0.75f, expected);
        LrnKernels.NegativePower(s, 0.75f, s);
        Assert.Equal(expected, s);
    }
}
