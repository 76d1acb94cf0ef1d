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
}
