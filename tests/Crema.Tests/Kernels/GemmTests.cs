using Crema.Kernels;

namespace Crema.Tests.Kernels;

// Gemm (packed, blocked, threaded) against GemmNaive (triple loop, double accumulator).
// Run also under DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0 to cover every kernel path.
public sealed class GemmTests
{
    public static TheoryData<bool, bool> Transposes => new()
    {
        { false, false }, { false, true }, { true, false }, { true, true },
    };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Sgemm_EverySmallShape_MatchesNaive(bool transA, bool transB)
    {
        // every m, n in 0..70 (straddles the 6-row and 16/64-column tiles); k cycles so each tile width meets each depth
        int[] depths = [1, 5, 16, 25, 37];
        var rng = new Random(1701);
        for (int m = 0; m <= 70; m++)
        {
            for (int n = 0; n <= 70; n++)
            {
                int k = depths[(m + (2 * n)) % depths.Length];
                CheckSgemm(rng, transA, transB, m, n, k, 1f, 0f);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Sgemm_BlockBoundaries_MatchesNaive(bool transA, bool transB)
    {
        // around KC = 256, NCB = 512, MC = 768 and the threading threshold (2^19 multiply-adds)
        (int M, int N, int K)[] shapes =
        [
            (7, 65, 255), (7, 65, 256), (13, 63, 257), (6, 64, 513), (5, 511, 31), (12, 512, 17), (11, 513, 33),
            (3, 1100, 40), (769, 17, 9), (770, 70, 30), (96, 300, 257), (130, 130, 130), (64, 577, 70), (20, 576, 11), (20, 576, 12), (20, 576, 25),
            // the dot-product path (NT, tiny M and N, long K), its edges and its k tail
            (25, 20, 576), (8, 8, 1000), (1, 1, 256), (32, 24, 300), (3, 7, 257), (33, 24, 256), (32, 25, 256),
            (64, 64, 127), (64, 64, 128),
        ];
        var rng = new Random(1701);
        foreach (var (m, n, k) in shapes)
        {
            CheckSgemm(rng, transA, transB, m, n, k, 1f, 0f);
        }
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Sgemm_Large_MatchesNaive(bool transA, bool transB)
    {
        CheckSgemm(new Random(1701), transA, transB, 300, 500, 700, 1f, 0.5f);
    }

    [Theory]
    [InlineData(1f, 0f)]
    [InlineData(0.5f, 1f)]
    [InlineData(-2f, 0.25f)]
    [InlineData(1f, -1f)]
    [InlineData(0f, 0.5f)]
    [InlineData(0f, 0f)]
    public void Sgemm_AlphaBeta_MatchesNaive(float alpha, float beta)
    {
        var rng = new Random(1701);
        foreach (var (m, n, k) in new[] { (37, 70, 45), (6, 64, 300), (200, 130, 90), (1, 1, 1), (25, 20, 576) })
        {
            foreach (var (ta, tb) in new[] { (false, false), (true, true), (false, true), (true, false) })
            {
                CheckSgemm(rng, ta, tb, m, n, k, alpha, beta);
            }
        }
    }

    [Fact]
    public void Sgemm_BetaZero_IgnoresNaNInC()
    {
        var rng = new Random(1701);
        float[] a = Fill(rng, 40 * 50), b = Fill(rng, 50 * 70);
        foreach (int k in new[] { 50, 0 })
        {
            var c = new float[40 * 70];
            Array.Fill(c, float.NaN);
            Gemm.Sgemm(false, false, 40, 70, k, 1f, a, b, 0f, c);
            Assert.All(c, v => Assert.False(float.IsNaN(v)));
        }
    }

    [Fact]
    public void Sgemm_ZeroDepth_ScalesC()
    {
        float[] c = [1f, 2f, 3f, 4f, 5f, 6f];
        Gemm.Sgemm(false, false, 2, 3, 0, 1f, [], [], 0.5f, c);
        Assert.Equal([0.5f, 1f, 1.5f, 2f, 2.5f, 3f], c);
    }

    [Fact]
    public void Sgemm_EmptyOutput_DoesNothing()
    {
        float[] a = [1f, 2f], c = [7f];
        Gemm.Sgemm(false, false, 0, 5, 2, 1f, [], new float[10], 0f, c);
        Gemm.Sgemm(false, false, 1, 0, 2, 1f, a, [], 0f, c);
        Assert.Equal(7f, c[0]);
    }

    [Fact]
    public void Sgemm_ShortOrNegativeArguments_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 3, 4, 1f, new float[7], new float[12], 0f, new float[6]));
        Assert.Equal("a", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 3, 4, 1f, new float[8], new float[11], 0f, new float[6]));
        Assert.Equal("b", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(true, true, 2, 3, 4, 1f, new float[8], new float[12], 0f, new float[5]));
        Assert.Equal("c", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, -1, 3, 4, 1f, [], [], 0f, []));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemv(false, 3, 4, 1f, new float[12], new float[3], 0f, new float[3]));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemv(true, 3, 4, 1f, new float[12], new float[3], 0f, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.ThreadCount = 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sgemv_MatchesNaive(bool transA)
    {
        var rng = new Random(1701);
        (float Alpha, float Beta)[] scalars = [(1f, 0f), (0.5f, 1f), (-2f, 0.25f), (0f, 2f)];
        var sizes = Enumerable.Range(0, 40).Select(i => (i, (3 * i) % 41)).Concat([(700, 1000), (1000, 3), (3, 1000)]);
        foreach (var (m, n) in sizes)
        {
            foreach (var (alpha, beta) in scalars)
            {
                float[] a = Fill(rng, m * n), x = Fill(rng, transA ? m : n), y = Fill(rng, transA ? n : m);
                if (beta == 0)
                {
                    Array.Fill(y, float.NaN);
                }

                float[] expected = (float[])y.Clone();
                GemmNaive.Sgemv(transA, m, n, alpha, a, x, beta, expected);
                Gemm.Sgemv(transA, m, n, alpha, a, x, beta, y);
                AssertClose(expected, y, transA ? m : n, alpha, beta, $"gemv trans={transA} m={m} n={n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Sgemm_OneAndTwoThreads_AreBitIdentical(bool transA, bool transB)
    {
        // shapes split by columns (wide), by rows (tall) and with edge tiles; all above the threading threshold
        // (256, 196, 300): N = 3 × 64 + 4, split by rows since the split counts lanes (by columns: 128 against 68 columns)
        (int M, int N, int K)[] shapes = [(96, 3025, 363), (384, 169, 300), (301, 257, 129), (1000, 70, 64), (256, 196, 300)];
        var rng = new Random(1701);
        int saved = Gemm.ThreadCount;
        try
        {
            foreach (var (m, n, k) in shapes)
            {
                float[] a = Fill(rng, m * k), b = Fill(rng, k * n), c0 = Fill(rng, m * n);
                float[] first = (float[])c0.Clone(), again = (float[])c0.Clone(), single = (float[])c0.Clone();
                Gemm.ThreadCount = 2;
                Gemm.Sgemm(transA, transB, m, n, k, 0.75f, a, b, 0.5f, first);
                Gemm.Sgemm(transA, transB, m, n, k, 0.75f, a, b, 0.5f, again);
                Gemm.ThreadCount = 1;
                Gemm.Sgemm(transA, transB, m, n, k, 0.75f, a, b, 0.5f, single);
                Assert.True(first.AsSpan().SequenceEqual(again), $"two runs differ at {m}x{n}x{k}");
                Assert.True(first.AsSpan().SequenceEqual(single), $"1 and 2 threads differ at {m}x{n}x{k}");
            }
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sgemv_OneAndTwoThreads_AreBitIdentical(bool transA)
    {
        // 1000 × 777 is above the GEMV threading threshold; 777 leaves a ragged last 16-block
        const int m = 1000, n = 777;
        var rng = new Random(1701);
        float[] a = Fill(rng, m * n), x = Fill(rng, transA ? m : n), y0 = Fill(rng, transA ? n : m);
        float[] two = (float[])y0.Clone(), one = (float[])y0.Clone();
        int saved = Gemm.ThreadCount;
        try
        {
            Gemm.ThreadCount = 2;
            Gemm.Sgemv(transA, m, n, 0.75f, a, x, 0.5f, two);
            Gemm.ThreadCount = 1;
            Gemm.Sgemv(transA, m, n, 0.75f, a, x, 0.5f, one);
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }

        Assert.True(two.AsSpan().SequenceEqual(one));
    }

    private static void CheckSgemm(Random rng, bool transA, bool transB, int m, int n, int k, float alpha, float beta)
    {
        float[] a = Fill(rng, m * k), b = Fill(rng, k * n), c = Fill(rng, m * n);
        if (beta == 0)
        {
            Array.Fill(c, float.NaN);
        }

        float[] expected = (float[])c.Clone();
        GemmNaive.Sgemm(transA, transB, m, n, k, alpha, a, b, beta, expected);
        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, b, beta, c);
        AssertClose(expected, c, k, alpha, beta, $"transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta}");
    }

    // Inputs lie in [-1, 1], so |Σ a·b| ≤ k: allow ~1e-5 relative per unit of depth.
    internal static void AssertClose(float[] expected, float[] actual, int k, float alpha, float beta, string what)
    {
        double tol = 1e-5 * (1 + (k * Math.Abs(alpha)) + Math.Abs(beta));
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tol:G3})");
            }
        }
    }

    internal static float[] Fill(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = (2 * rng.NextSingle()) - 1;
        }

        return v;
    }
}
