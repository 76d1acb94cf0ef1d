using System.Numerics.Tensors;
using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>The fused SGD step against Caffe's separate passes (regularise, momentum, copy, update): bit for bit.</summary>
public class SolverKernelsTests
{
    [Theory]
    [InlineData(0.0005f)]
    [InlineData(0f)]
    public void SgdMomentum_IsBitIdenticalToTheSeparatePasses(float decay)
    {
        var rng = new Random(1701);
        // every length through the vector body and the scalar tail, and one long enough to run on all threads
        foreach (int n in Enumerable.Range(0, 257).Append(SolverKernels.ParallelMinLength * 3 + 17))
        {
            float[] w = Fill(rng, n, 1f), g = Fill(rng, n, 0.01f), h = Fill(rng, n, 0.001f);
            float[] w2 = (float[])w.Clone(), g2 = (float[])g.Clone(), h2 = (float[])h.Clone();
            const float Momentum = 0.9f, Rate = 0.01f;

            SolverKernels.SgdMomentum(w, g, h, decay, Momentum, Rate);

            if (decay != 0)
            {
                TensorPrimitives.MultiplyAdd(w2, decay, g2, g2);
            }
            TensorPrimitives.Multiply(h2, Momentum, h2);
            TensorPrimitives.MultiplyAdd(g2, Rate, h2, h2);
            h2.CopyTo(g2);
            TensorPrimitives.Subtract(w2, g2, w2);

            Assert.True(w.AsSpan().SequenceEqual(w2), $"weights, n = {n}");
            Assert.True(g.AsSpan().SequenceEqual(g2), $"diff, n = {n}");
            Assert.True(h.AsSpan().SequenceEqual(h2), $"history, n = {n}");
        }
    }

    [Fact]
    public void SgdMomentum_RefusesMismatchedLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => SolverKernels.SgdMomentum(new float[4], new float[4], new float[3], 0f, 0.9f, 0.1f));
        Assert.Contains("same length", ex.Message);
    }

    [Fact]
    public void Clear_ZeroesLongAndShortSpans()
    {
        foreach (int n in new[] { 0, 5, SolverKernels.ParallelMinLength * 2 + 3 })
        {
            var y = Enumerable.Repeat(3f, n).ToArray();
            SolverKernels.Clear(y);
            Assert.All(y, v => Assert.Equal(0f, v));
        }
    }

    private static float[] Fill(Random rng, int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = ((float)rng.NextDouble() - 0.5f) * scale;
        }
        return a;
    }
}
