using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>
/// Row lengths 0..256 through the vector copy/add paths of Im2Col2D / Col2Im2D (a 1×W image with a 1×1 kernel copies
/// one row of W floats; a 1×3 kernel with pad 1 adds rows of W − 1 and W floats). Run under forced instruction sets
/// by tests/run-isa-matrix.sh.
/// </summary>
public class Im2ColLengthTests
{
    [Fact]
    public void EveryRowLength_MatchesNaiveTwin()
    {
        for (int width = 0; width <= 256; width++)
        {
            var im = TestBlobs.Gaussian(1701 + width, 1f, 2, 2, Math.Max(width, 1)).Data.ToArray().AsSpan(0, 4 * width).ToArray();
            foreach (var (kernel, pad) in new[] { (1, 0), (3, 1) })
            {
                int outW = Im2Col.OutputSize(width, kernel, pad, 1, 1);
                if (outW <= 0)
                {
                    continue;
                }
                int colCount = 2 * kernel * 2 * outW;
                var shape = new Im2ColShape(2, 2, width, 1, kernel, 0, pad, 1, 1, 1, 1);
                var expected = new float[colCount];
                var actual = Enumerable.Repeat(float.NaN, colCount).ToArray();
                Im2ColNaive.Im2Col2D(im, shape, expected);
                Im2Col.Im2Col2D(im, shape, actual);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"im2col width {width} kernel {kernel}");

                var back = new float[im.Length];
                var backNaive = new float[im.Length];
                Im2ColNaive.Col2Im2D(expected, shape, backNaive);
                Im2Col.Col2Im2D(expected, shape, back);
                Assert.True(backNaive.AsSpan().SequenceEqual(back), $"col2im width {width} kernel {kernel}");
            }
        }
    }
}
