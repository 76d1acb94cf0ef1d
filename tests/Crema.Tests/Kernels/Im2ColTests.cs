using Crema.Kernels;

namespace Crema.Tests.Kernels;

public class Im2ColTests
{
    // (channels, spatial shape, kernel, pad, stride, dilation)
    public static TheoryData<int, int[], int[], int[], int[], int[]> Geometries => new()
    {
        { 3, [6, 5], [3, 3], [0, 0], [1, 1], [1, 1] },
        { 2, [6, 5], [3, 2], [1, 2], [2, 1], [1, 1] },
        { 2, [7, 8], [3, 3], [2, 1], [1, 3], [2, 2] },
        { 1, [4, 4], [1, 1], [0, 0], [2, 2], [1, 1] },
        { 2, [5, 9], [2, 4], [0, 3], [3, 2], [1, 1] },
        { 1, [3, 3], [3, 3], [2, 2], [1, 1], [1, 1] },
        { 2, [9], [3], [1], [2], [2] },
        { 2, [4, 5, 3], [2, 3, 2], [1, 0, 1], [1, 2, 2], [2, 1, 1] },
        { 1, [3, 2, 3, 2], [2, 1, 2, 2], [0, 1, 1, 0], [1, 1, 2, 1], [1, 1, 1, 1] },
    };

    private static float[] Naive(float[] im, int channels, int[] imShape, int[] kernel, int[] pad, int[] stride, int[] dilation, out int[] colShape)
    {
        int axes = imShape.Length;
        colShape = new int[axes];
        for (int a = 0; a < axes; a++)
        {
            colShape[a] = (imShape[a] + 2 * pad[a] - (dilation[a] * (kernel[a] - 1) + 1)) / stride[a] + 1;
        }
        int kernelCount = kernel.Aggregate(1, (x, y) => x * y);
        int colCount = colShape.Aggregate(1, (x, y) => x * y);
        int imCount = imShape.Aggregate(1, (x, y) => x * y);
        var col = new float[channels * kernelCount * colCount];
        for (int c = 0; c < channels; c++)
        {
            for (int k = 0; k < kernelCount; k++)
            {
                for (int p = 0; p < colCount; p++)
                {
                    int offset = 0;
                    bool inside = true;
                    for (int a = 0, kr = k, pr = p, kd = kernelCount, pd = colCount; a < axes; a++)
                    {
                        kd /= kernel[a];
                        pd /= colShape[a];
                        int pos = pr / pd * stride[a] - pad[a] + kr / kd * dilation[a];
                        (kr, pr) = (kr % kd, pr % pd);
                        inside &= pos >= 0 && pos < imShape[a];
                        offset = offset * imShape[a] + pos;
                    }
                    col[(c * kernelCount + k) * colCount + p] = inside ? im[c * imCount + offset] : 0f;
                }
            }
        }
        return col;
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Im2Col_MatchesNaive_AndCol2ImIsItsAdjoint(int channels, int[] imShape, int[] kernel, int[] pad, int[] stride, int[] dilation)
    {
        var im = TestBlobs.Gaussian(1701, 1f, channels * imShape.Aggregate(1, (x, y) => x * y)).Data.ToArray();
        var expected = Naive(im, channels, imShape, kernel, pad, stride, dilation, out int[] colShape);
        var col = new float[expected.Length];
        col.AsSpan().Fill(float.NaN);
        Im2Col.Im2ColNd(im, channels, imShape, colShape, kernel, pad, stride, dilation, col);
        Assert.Equal(expected, col);
        if (imShape.Length == 2)
        {
            col.AsSpan().Fill(float.NaN);
            Im2Col.Im2Col2D(im, new Im2ColShape(channels, imShape[0], imShape[1], kernel[0], kernel[1], pad[0], pad[1], stride[0], stride[1], dilation[0], dilation[1]), col);
            Assert.Equal(expected, col);
        }

        // col2im is the transpose of im2col: <col2im(r), x> = <r, im2col(x)> for any r, and it accumulates.
        var r = TestBlobs.Gaussian(7, 1f, col.Length).Data.ToArray();
        double lhsExpected = expected.Zip(r, (a, b) => (double)a * b).Sum();
        var back = new float[im.Length];
        Im2Col.Col2ImNd(r, channels, imShape, colShape, kernel, pad, stride, dilation, back);
        Assert.Equal(lhsExpected, back.Zip(im, (a, b) => (double)a * b).Sum(), 1e-3);
        if (imShape.Length == 2)
        {
            var back2 = Enumerable.Repeat(1f, im.Length).ToArray();
            Im2Col.Col2Im2D(r, new Im2ColShape(channels, imShape[0], imShape[1], kernel[0], kernel[1], pad[0], pad[1], stride[0], stride[1], dilation[0], dilation[1]), back2);
            TestBlobs.AssertClose(back.Select(v => v + 1f).ToArray(), back2, 1e-5f);
        }
    }
}
