using Crema.Kernels;

namespace Crema.Tests.Kernels;

// Gemm.Prepack + SgemmPacked against GemmNaive, and bit for bit against Sgemm (same kernels and summation order).
// Run also under DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0 (tests/run-isa-matrix.sh).
public sealed class GemmPrepackedTests
{
    public static TheoryData<bool> TransB => new() { false, true };

    [Theory]
    [MemberData(nameof(TransB))]
    public void SgemmPacked_EverySmallShape_MatchesNaiveAndSgemm(bool transB)
    {
        // m, n in 0..70 straddle the 6-row tiles and the 16/64-column slivers (the last one padded); k cycles
        int[] depths = [1, 5, 16, 37];
        var rng = new Random(1701);
        for (int m = 0; m <= 70; m += 3)
        {
            for (int n = 0; n <= 70; n++)
            {
                Check(rng, transB, m, n, depths[(m + n) % depths.Length]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TransB))]
    public void SgemmPacked_BlockBoundaries_MatchesNaiveAndSgemm(bool transB)
    {
        // depth blocks of KC = 256, column blocks of NCB = 512, the threading threshold (2^19 multiply-adds)
        (int M, int N, int K)[] shapes = [(4, 65, 255), (10, 65, 257), (3, 513, 300), (10, 600, 513), (16, 1000, 70), (97, 130, 260)];
        var rng = new Random(1701);
        foreach (var (m, n, k) in shapes)
        {
            Check(rng, transB, m, n, k);
        }
    }

    [Fact]
    public void SgemmPacked_TransposedA_MatchesNaiveAndSgemm()
    {
        // A stored (k, m): a 1×1 convolution's input image read as positions × channels
        (int M, int N, int K)[] shapes = [(1, 64, 3), (49, 70, 40), (49, 512, 300), (7, 17, 257), (100, 130, 20)];
        var rng = new Random(1704);
        foreach (var (m, n, k) in shapes)
        {
            float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, k * n);
            float[] expected = new float[m * n], viaSgemm = new float[m * n], actual = new float[m * n];
            GemmNaive.Sgemm(true, true, m, n, k, 1f, a, b, 0f, expected);
            Gemm.Sgemm(true, true, m, n, k, 1f, a, b, 0f, viaSgemm);
            Gemm.SgemmPacked(true, m, a, Gemm.Prepack(true, k, n, b), actual);
            GemmTests.AssertClose(expected, actual, k, 1f, 0f, $"transA m={m} n={n} k={k}");
            Assert.True(viaSgemm.AsSpan().SequenceEqual(actual), $"transA m={m} n={n} k={k}: differs from Sgemm");
        }
    }

    [Fact]
    public void SgemmPacked_OneAndTwoThreads_AreBitIdentical()
    {
        var rng = new Random(1701);
        const int m = 10, n = 1000, k = 600;
        float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, n * k);
        var packed = Gemm.Prepack(true, k, n, b);
        float[] two = new float[m * n], one = new float[m * n];
        int saved = Gemm.ThreadCount;
        try
        {
            Gemm.ThreadCount = 2;
            Gemm.SgemmPacked(false, m, a, packed, two);
            Gemm.ThreadCount = 1;
            Gemm.SgemmPacked(false, m, a, packed, one);
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
        Assert.True(two.AsSpan().SequenceEqual(one));
    }

    [Fact]
    public void SgemmPacked_ZeroDepthClearsC_AndBadArgumentsThrow()
    {
        var packed = Gemm.Prepack(false, 0, 5, []);
        float[] c = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Gemm.SgemmPacked(false, 2, [], packed, c);
        Assert.All(c, v => Assert.Equal(0f, v));

        var p = Gemm.Prepack(true, 3, 4, new float[12]);
        Assert.Equal((3, 4), (p.K, p.N));
        Assert.Throws<ArgumentException>(() => Gemm.SgemmPacked(false, 2, new float[5], p, new float[8]));
        Assert.Throws<ArgumentException>(() => Gemm.SgemmPacked(false, 2, new float[6], p, new float[7]));
        Assert.Throws<ArgumentException>(() => Gemm.Prepack(true, 3, 4, new float[11]));
        Assert.Throws<ArgumentNullException>(() => Gemm.SgemmPacked(false, 2, new float[6], null!, new float[8]));
    }

    private static void Check(Random rng, bool transB, int m, int n, int k)
    {
        float[] a = GemmTests.Fill(rng, m * k), b = GemmTests.Fill(rng, k * n);
        float[] expected = new float[m * n], viaSgemm = new float[m * n], actual = new float[m * n];
        Array.Fill(actual, float.NaN);
        GemmNaive.Sgemm(false, transB, m, n, k, 1f, a, b, 0f, expected);
        Gemm.Sgemm(false, transB, m, n, k, 1f, a, b, 0f, viaSgemm);
        Gemm.SgemmPacked(false, m, a, Gemm.Prepack(transB, k, n, b), actual);
        string what = $"transB={transB} m={m} n={n} k={k}";
        GemmTests.AssertClose(expected, actual, k, 1f, 0f, what);
        Assert.True(viaSgemm.AsSpan().SequenceEqual(actual), $"{what}: differs from Sgemm");
    }
}
