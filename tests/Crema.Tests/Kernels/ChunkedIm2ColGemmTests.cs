using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>
/// The two kernels a chunked convolution forward is built from: im2col of a window of output rows, and a GEMM that
/// writes a column block of a wider C.
/// </summary>
public class ChunkedIm2ColGemmTests
{
    // (channels, height, width, kernel, pad, stride, dilation)
    public static TheoryData<int, int, int, int, int, int, int> Shapes => new()
    {
        { 3, 23, 21, 7, 0, 2, 1 },  // first-layer geometry
        { 2, 16, 16, 3, 1, 1, 1 },  // padded 3×3: the first and last windows hold zero rows
        { 2, 10, 12, 3, 2, 2, 2 },  // dilated, padded, strided
        { 1, 7, 6, 3, 4, 3, 1 },    // padding wider than a stride: whole windows outside the image
        { 2, 12, 9, 5, 0, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Im2ColRows_EqualsTheRowsOfTheFullIm2Col(int channels, int height, int width, int kernel, int pad, int stride, int dilation)
    {
        var shape = new Im2ColShape(channels, height, width, kernel, kernel, pad, pad, stride, stride, dilation, dilation);
        int outH = shape.OutputHeight, outW = shape.OutputWidth, rows = channels * kernel * kernel;
        var im = TestBlobs.Gaussian(1701, 1f, channels, height, width).Data.ToArray();
        var full = new float[rows * outH * outW];
        Im2ColNaive.Im2Col2D(im, shape, full);
        for (int r0 = 0; r0 <= outH; r0++)
        {
            for (int r1 = r0; r1 <= outH; r1++)
            {
                int width1 = (r1 - r0) * outW;
                var window = Enumerable.Repeat(float.NaN, rows * width1).ToArray();
                Im2Col.Im2Col2DRows(im, shape, r0, r1, window);
                for (int row = 0; row < rows; row++)
                {
                    var expected = full.AsSpan((row * outH * outW) + (r0 * outW), width1);
                    Assert.True(expected.SequenceEqual(window.AsSpan(row * width1, width1)), $"window [{r0}, {r1}) column row {row}");
                }
            }
        }
    }

    [Fact]
    public void Im2ColRows_RefusesAWindowOutsideTheOutputAndAShortBuffer()
    {
        var shape = new Im2ColShape(2, 5, 5, 3, 3, 0, 0, 1, 1, 1, 1); // output 3×3
        Assert.Throws<ArgumentOutOfRangeException>(() => Im2Col.Im2Col2DRows(new float[50], shape, 1, 4, new float[1000]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Im2Col.Im2Col2DRows(new float[50], shape, 2, 1, new float[1000]));
        // rows [1, 3): 2·9 column rows × 2·3 positions = 108 floats
        var ex = Assert.Throws<ArgumentException>(() => Im2Col.Im2Col2DRows(new float[50], shape, 1, 3, new float[107]));
        Assert.Contains("columns need 108", ex.Message);
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(6, 64, 147, 100)]   // whole register tiles
    [InlineData(7, 65, 33, 70)]     // edge rows and columns
    [InlineData(96, 448, 147, 12321)] // SqueezeNet conv1's chunk shape
    [InlineData(130, 17, 300, 17)]  // ldc = n; more than 96 rows: B packed
    [InlineData(5, 0, 4, 9)]
    [InlineData(4, 9, 0, 11)]       // k = 0: the block is cleared
    public void SgemmIntoColumns_WritesOnlyItsBlock(int m, int n, int k, int ldc)
    {
        var a = TestBlobs.Gaussian(1801, 1f, Math.Max(1, m * k)).Data.ToArray();
        var b = TestBlobs.Gaussian(1802, 1f, Math.Max(1, k * n)).Data.ToArray();
        int offset = 3;
        var c = Enumerable.Repeat(-7f, offset + (m * ldc)).ToArray();
        Gemm.SgemmIntoColumns(m, n, k, a, b, c.AsSpan(offset), ldc);
        var expected = new float[m * n];
        GemmNaive.Sgemm(false, false, m, n, k, 1f, a, b, 0f, expected);
        for (int i = 0; i < c.Length; i++)
        {
            int row = (i - offset) / ldc, col = (i - offset) % ldc;
            if (i < offset || col >= n)
            {
                Assert.Equal(-7f, c[i]);
            }
            else
            {
                Assert.Equal(expected[(row * n) + col], c[i], MathF.Max(1e-5f, 1e-5f * MathF.Abs(expected[(row * n) + col]) * k));
            }
        }
        // Same kernels and summation order as Sgemm: bit-identical to the whole-matrix product when ldc = n.
        if (ldc == n && m * n > 0)
        {
            var whole = new float[m * n];
            Gemm.Sgemm(false, false, m, n, k, 1f, a, b, 0f, whole);
            Assert.Equal(whole, c.AsSpan(offset, m * n).ToArray());
        }
    }

    [Fact]
    public void SgemmIntoColumns_RefusesAShortC()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmIntoColumns(3, 4, 2, new float[6], new float[8], new float[(2 * 10) + 3], 10));
        Assert.Contains("need 24", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.SgemmIntoColumns(3, 4, 2, new float[6], new float[8], new float[40], 3));
    }
}
