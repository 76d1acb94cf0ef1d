using Crema.Kernels;

namespace Crema.Tests.Kernels;

public class TransposeTests
{
    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(16, 16)]
    [InlineData(33, 20)]
    [InlineData(50, 7)]
    public void AddTransposed_MatchesNaiveLoop(int rows, int cols)
    {
        var rng = new Random(1701);
        float[] src = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)rng.NextDouble() - 0.5f)];
        float[] dst = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)rng.NextDouble())];
        float[] expected = (float[])dst.Clone();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                expected[c * rows + r] += src[r * cols + c];
            }
        }
        Transpose.AddTransposed(src, rows, cols, dst);
        Assert.Equal(expected, dst);
    }

    [Fact]
    public void Into_EveryShapeUpTo40_MatchesNaiveLoop()
    {
        // full 16×16 blocks (the AVX-512 register transpose) and every ragged edge
        var rng = new Random(1702);
        for (int rows = 0; rows <= 40; rows++)
        {
            for (int cols = 0; cols <= 40; cols += rows % 3 == 0 ? 1 : 7)
            {
                float[] src = [.. Enumerable.Range(0, rows * cols).Select(_ => (float)rng.NextDouble() - 0.5f)];
                float[] dst = [.. Enumerable.Repeat(float.NaN, rows * cols)];
                Transpose.Into(src, rows, cols, dst);
                for (int r = 0; r < rows; r++)
                {
                    for (int c = 0; c < cols; c++)
                    {
                        Assert.Equal(src[r * cols + c], dst[c * rows + r]);
                    }
                }
            }
        }
        Assert.Throws<ArgumentException>(() => Transpose.Into(new float[12], 3, 4, new float[11]));
    }
}
