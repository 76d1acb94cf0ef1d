using Crema.Kernels;

namespace Crema.Tests.Kernels;

// The GEMM epilogue (a convolution's bias and fused leaky ReLU, applied per tile while in cache) against Sgemm followed
// by the separate pass it replaces: bit for bit, on every path (threaded, column block, edge tiles, depth blocks).
// Run also under DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0 (tests/run-isa-matrix.sh).
public sealed unsafe class GemmEpilogueTests
{
    public static TheoryData<bool, bool, float> Variants => new()
    {
        { true, false, 0f }, { true, true, 0f }, { false, true, 0f }, { true, true, 0.1f }, { false, true, -0.5f },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void SgemmWithEpilogue_EqualsSgemmThenTheSeparatePass(bool bias, bool activation, float slope)
    {
        // edge tiles (m % 6, n % 64/16), several depth blocks (k > 256), and shapes above the threading threshold
        (int M, int N, int K)[] shapes = [(1, 1, 1), (7, 65, 30), (13, 49, 257), (64, 196, 300), (96, 300, 600), (200, 169, 513)];
        var rng = new Random(1701);
        OnEveryShape(shapes, (m, n, k, threads) =>
        {
            float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, k * n), rowBias = GemmTests.Fill(rng, m);
            float[] expected = new float[m * n], actual = Enumerable.Repeat(float.NaN, m * n).ToArray();
            Gemm.Sgemm(false, false, m, n, k, 1f, a, b, 0f, expected);
            SeparatePass(expected, m, n, n, bias ? rowBias : null, activation, slope);
            fixed (float* pb = rowBias)
            {
                Gemm.SgemmWithEpilogue(m, n, k, a, b, actual, new GemmEpilogue(bias ? pb : null, activation, slope));
            }
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{m}x{n}x{k}, {threads} threads");
        });
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void SgemmIntoColumns_WithEpilogue_TouchesOnlyItsColumns(bool bias, bool activation, float slope)
    {
        // a 37-column block at column 11 of 70-wide rows, rows 5.. of the bias (a group's part)
        const int m = 20, n = 37, k = 300, ldc = 70, col0 = 11, row0 = 5;
        var rng = new Random(1702);
        float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, k * n), rowBias = GemmTests.Fill(rng, m + row0);
        float[] expected = GemmTests.Fill(rng, m * ldc), actual = (float[])expected.Clone();
        var block = new float[m * n];
        Gemm.Sgemm(false, false, m, n, k, 1f, a, b, 0f, block);
        SeparatePass(block, m, n, n, bias ? rowBias[row0..] : null, activation, slope);
        for (int i = 0; i < m; i++)
        {
            block.AsSpan(i * n, n).CopyTo(expected.AsSpan((i * ldc) + col0));
        }
        fixed (float* pb = rowBias)
        {
            var epilogue = new GemmEpilogue(bias ? pb : null, activation, slope).FromRow(row0);
            Gemm.SgemmIntoColumns(m, n, k, a, b, actual.AsSpan(col0), ldc, epilogue);
        }
        Assert.True(expected.AsSpan().SequenceEqual(actual));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void SgemmWithEpilogue_Residual_EqualsBiasPassThenEltwiseSum(bool bias, bool activation, float slope)
    {
        // The unfused net: the convolution's bias pass, then Eltwise SUM (y = 1·r, then y += 1·c), then the ReLU.
        (int M, int N, int K)[] shapes = [(1, 1, 1), (1, 17, 3), (7, 65, 30), (13, 49, 257), (64, 196, 300), (200, 169, 513)];
        var rng = new Random(1704);
        OnEveryShape(shapes, (m, n, k, threads) =>
        {
            float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, k * n), rowBias = GemmTests.Fill(rng, m);
            float[] residual = GemmTests.Fill(rng, m * n);
            float[] expected = new float[m * n], actual = Enumerable.Repeat(float.NaN, m * n).ToArray();
            Gemm.Sgemm(false, false, m, n, k, 1f, a, b, 0f, expected);
            SeparatePass(expected, m, n, n, bias ? rowBias : null, activation: false, 0f);
            var sum = new float[m * n];
            System.Numerics.Tensors.TensorPrimitives.Multiply(residual, 1f, sum);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(expected, 1f, sum, sum);
            if (activation)
            {
                FusedActivations.BiasLeakyRelu(sum, 0f, sum, slope);
            }
            fixed (float* pb = rowBias)
            fixed (float* pc = actual)
            fixed (float* pr = residual)
            {
                Gemm.SgemmWithEpilogue(m, n, k, a, b, actual, new GemmEpilogue(bias ? pb : null, activation, slope, pc, pr));
            }
            Assert.True(sum.AsSpan().SequenceEqual(actual), $"{m}x{n}x{k}, {threads} threads");
        });
    }

    // Each shape on 1 and 2 threads (Gemm.ThreadCount restored after).
    private static void OnEveryShape((int M, int N, int K)[] shapes, Action<int, int, int, int> test)
    {
        int saved = Gemm.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Gemm.ThreadCount = threads;
                foreach (var (m, n, k) in shapes)
                {
                    test(m, n, k, threads);
                }
            }
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
    }

    [Fact]
    public void Residual_ColumnBlockOfAGroup_ReadsItsOwnPart()
    {
        // Rows 5.. (a group) of a 70-wide output, columns 11..48 (a chunk): the residual is read at the same positions.
        const int m = 20, n = 37, k = 40, ldc = 70, col0 = 11, row0 = 5;
        var rng = new Random(1705);
        float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, k * n);
        float[] output = GemmTests.Fill(rng, (m + row0) * ldc), residual = GemmTests.Fill(rng, (m + row0) * ldc);
        float[] expected = (float[])output.Clone();
        var block = new float[m * n];
        Gemm.Sgemm(false, false, m, n, k, 1f, a, b, 0f, block);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int at = ((row0 + i) * ldc) + col0 + j;
                expected[at] = block[(i * n) + j] + residual[at];
            }
        }
        fixed (float* pout = output)
        fixed (float* pres = residual)
        {
            var epilogue = new GemmEpilogue(null, false, 0f, pout, pres).FromRow(row0);
            Gemm.SgemmIntoColumns(m, n, k, a, b, output.AsSpan((row0 * ldc) + col0), ldc, epilogue);
        }
        Assert.True(expected.AsSpan().SequenceEqual(output));
    }

    [Fact]
    public void InactiveEpilogue_IsPlainSgemm()
    {
        var rng = new Random(1703);
        float[] a = GemmTests.Fill(rng, 6 * 40), b = GemmTests.Fill(rng, 40 * 50), expected = new float[300], actual = new float[300];
        Gemm.Sgemm(false, false, 6, 50, 40, 1f, a, b, 0f, expected);
        Gemm.SgemmWithEpilogue(6, 50, 40, a, b, actual, default);
        Assert.True(expected.AsSpan().SequenceEqual(actual));
    }

    // What the convolution did before: TensorPrimitives.Add(row, bias) or FusedActivations.BiasLeakyRelu per row.
    private static void SeparatePass(float[] c, int m, int n, int ldc, float[]? bias, bool activation, float slope)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.AsSpan(i * ldc, n);
            float bi = bias?[i] ?? 0f;
            if (activation)
            {
                FusedActivations.BiasLeakyRelu(row, bi, row, slope);
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Add(row, bi, row);
            }
        }
    }
}
