using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>Pooling.MaxForward (pointer walk) against its plain-loop twin: values, argmax mask and tie rule.</summary>
public class PoolingKernelTests
{
    // (height, width, kernel, stride, pad); pooled sizes rounded up, as Caffe's default
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 32, 32, 3, 2, 0 },  // CIFAR-10 pool1 (ceil mode adds a clipped last window)
        { 24, 24, 2, 2, 0 },  // LeNet pool1
        { 13, 13, 3, 2, 0 },  // CaffeNet pool5
        { 7, 9, 3, 2, 1 },    // padded
        { 5, 6, 4, 1, 2 },
        { 3, 3, 3, 1, 0 },    // global
        { 55, 55, 3, 2, 0 },  // CaffeNet pool1: a full 16-window chunk and a partial one per row
        { 40, 40, 2, 2, 0 },
        { 20, 37, 3, 1, 1 },  // stride 1, padded: clipped edge windows around the chunks
        { 12, 40, 5, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MaxForward_MatchesNaiveTwin(int height, int width, int kernel, int stride, int pad)
    {
        int pooledH = ((height + (2 * pad) - kernel + stride - 1) / stride) + 1;
        int pooledW = ((width + (2 * pad) - kernel + stride - 1) / stride) + 1;
        var s = new PoolShape(height, width, pooledH, pooledW, kernel, kernel, stride, stride, pad, pad);
        const int planes = 5;
        var x = TestBlobs.Gaussian(1701, 1f, planes, height, width).Data.ToArray();
        // Ties: some windows hold repeated maxima, and whole rows of one value.
        for (int i = 0; i < x.Length; i += 7)
        {
            x[i] = 2f;
        }
        x.AsSpan(0, width).Fill(3f);
        var expected = new float[planes * s.PlaneOut];
        var expectedMask = new int[expected.Length];
        var actual = new float[expected.Length];
        var actualMask = new int[expected.Length];
        PoolingNaive.MaxForward(x, planes, s, expected, expectedMask);
        Pooling.MaxForward(x, planes, s, actual, actualMask);
        Assert.Equal(expected, actual);
        Assert.Equal(expectedMask, actualMask);
    }

    [Fact]
    public void MaxForward_EveryRowLength_MatchesNaiveTwin()
    {
        // widths 1..256 through the 16-window (AVX-512) or 8-window (AVX2) chunks, their masked tails and the clipped edges
        foreach (var (s, x) in RowLengthCases(3, [(2, 2, 0), (3, 1, 1), (3, 2, 1), (3, 2, 0), (5, 1, 2)]))
        {
            var expected = new float[RowLengthPlanes * s.PlaneOut];
            var expectedMask = new int[expected.Length];
            var actual = new float[expected.Length];
            var actualMask = new int[expected.Length];
            PoolingNaive.MaxForward(x, RowLengthPlanes, s, expected, expectedMask);
            Pooling.MaxForward(x, RowLengthPlanes, s, actual, actualMask);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"values, {s}");
            Assert.True(expectedMask.AsSpan().SequenceEqual(actualMask), $"mask, {s}");
        }
    }

    [Fact]
    public void MaxForward_WithoutMask_EveryRowLength_MatchesNaiveTwin()
    {
        // Inference (no argmax mask): same maxima through the chunks without index bookkeeping and the scalar edges.
        foreach (var (s, x) in RowLengthCases(3, [(2, 2, 0), (3, 1, 1), (3, 2, 1), (3, 2, 0), (5, 1, 2)]))
        {
            var expected = new float[RowLengthPlanes * s.PlaneOut];
            var actual = new float[expected.Length];
            PoolingNaive.MaxForward(x, RowLengthPlanes, s, expected, new int[expected.Length]);
            Pooling.MaxForward(x, RowLengthPlanes, s, actual, default);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"values, {s}");
        }
    }

    [Fact]
    public void MaxForward_WithoutMask_VeryWideRows_UseTheNaiveFallback()
    {
        var s = new PoolShape(2, 2100, 1, 1050, 2, 2, 2, 2, 0, 0);
        var x = TestBlobs.Gaussian(1701, 1f, 1, 2, 2100).Data.ToArray();
        var expected = new float[s.PlaneOut];
        var actual = new float[s.PlaneOut];
        PoolingNaive.MaxForward(x, 1, s, expected, new int[s.PlaneOut]);
        Pooling.MaxForward(x, 1, s, actual, default);
        Assert.Equal(expected, actual);
    }

    private const int RowLengthPlanes = 2;

    // Every width 1..256 for each (kernel, stride, pad), pooled sizes rounded up as Caffe's, with a seeded input.
    private static IEnumerable<(PoolShape Shape, float[] Input)> RowLengthCases(int height, (int Kernel, int Stride, int Pad)[] windows)
    {
        foreach (var (kernel, stride, pad) in windows)
        {
            for (int width = 1; width <= 256; width++)
            {
                int pooledH = ((height + (2 * pad) - kernel + stride - 1) / stride) + 1;
                int pooledW = ((width + (2 * pad) - kernel + stride - 1) / stride) + 1;
                if (pooledH <= 0 || pooledW <= 0)
                {
                    continue;
                }
                var s = new PoolShape(height, width, pooledH, pooledW, kernel, kernel, stride, stride, pad, pad);
                yield return (s, TestBlobs.Gaussian(1701 + width, 1f, RowLengthPlanes, height, width).Data.ToArray());
            }
        }
    }

    [Fact]
    public void AveForward_EveryRowLength_MatchesPlainLoopExactly()
    {
        foreach (var (s, x) in RowLengthCases(5, [(2, 2, 0), (3, 2, 1), (3, 1, 1), (3, 2, 0), (5, 2, 2)]))
        {
            var expected = AveReference(x, RowLengthPlanes, s);
            var actual = new float[expected.Length];
            Pooling.AveForward(x, RowLengthPlanes, s, actual);
            if (s.KernelW < 4)
            {
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{s}");
            }
            else
            {
                // Wider rows are summed by TensorPrimitives.Sum in the kernel: same value up to rounding.
                TestBlobs.AssertClose(expected, actual, 1e-5f);
            }
        }
    }

    // Caffe's AVE pooling, rows summed left to right, row sums in row order, divided by the window clipped to the padded image.
    private static float[] AveReference(float[] x, int planes, PoolShape s)
    {
        var y = new float[planes * s.PlaneOut];
        for (int p = 0; p < planes; p++)
        {
            for (int ph = 0; ph < s.PooledHeight; ph++)
            {
                int h0 = (ph * s.StrideH) - s.PadH, h1 = Math.Min(h0 + s.KernelH, s.Height + s.PadH);
                int hSize = h1 - h0;
                h0 = Math.Max(h0, 0);
                h1 = Math.Min(h1, s.Height);
                for (int pw = 0; pw < s.PooledWidth; pw++)
                {
                    int w0 = (pw * s.StrideW) - s.PadW, w1 = Math.Min(w0 + s.KernelW, s.Width + s.PadW);
                    int wSize = w1 - w0;
                    w0 = Math.Max(w0, 0);
                    w1 = Math.Min(w1, s.Width);
                    float sum = 0;
                    for (int h = h0; h < h1; h++)
                    {
                        float row = 0;
                        for (int w = w0; w < w1; w++)
                        {
                            row += x[(p * s.PlaneIn) + (h * s.Width) + w];
                        }
                        sum += row;
                    }
                    y[(p * s.PlaneOut) + (ph * s.PooledWidth) + pw] = sum / (hSize * wSize);
                }
            }
        }
        return y;
    }
}
