using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) and F(2×2, 3×3) against a direct convolution summed in double. Bound: max |y − ref| ≤ 1e-5 · max |ref| on
/// He-initialised weights (std √(2 / 9C)) and ReLU-like inputs (uniform [0, 1)), the values real VGG/ResNet layers see.
/// </summary>
public class WinogradTests
{
    private const double RelativeBound = 1e-5;

    // (num, channels, height, width, outChannels, groups, padH, padW)
    public static TheoryData<int, int, int, int, int, int, int, int> Shapes => new()
    {
        { 1, 1, 3, 3, 1, 1, 0, 0 },      // one output pixel
        { 1, 3, 8, 8, 4, 1, 1, 1 },      // 8×8 output: exactly 2×2 tiles
        { 1, 5, 7, 9, 3, 1, 1, 1 },      // odd sizes, partial edge tiles, channels not a multiple of 16
        { 3, 16, 6, 6, 16, 1, 0, 0 },    // batch 3, one tile per image
        { 2, 17, 11, 13, 33, 1, 1, 1 },  // one past 16 on both channel sides
        { 1, 8, 10, 5, 8, 1, 2, 2 },     // pad 2: output larger than input
        { 1, 4, 9, 12, 6, 1, 0, 2 },     // unequal padding
        { 3, 12, 9, 9, 18, 3, 1, 1 },    // groups
        { 1, 64, 14, 14, 64, 1, 1, 1 },  // ResNet/VGG late-stage geometry, small
        { 2, 32, 28, 30, 48, 2, 1, 1 },  // several tile blocks, groups
        { 1, 2, 4, 4, 2, 2, 2, 0 },
        { 1, 16, 2, 2, 16, 1, 1, 1 },    // image smaller than a tile
        { 1, 256, 12, 12, 48, 1, 1, 1 }, // deep sums: ResNet res4 / VGG conv3 channel counts
        { 1, 512, 8, 8, 32, 1, 1, 1 },   // VGG conv4/conv5 channel counts
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_MatchesDirectConvolution(int num, int channels, int height, int width, int outChannels, int groups, int padH, int padW) =>
        CheckAgainstDirect(new WinogradShape(num, channels, height, width, outChannels, groups, padH, padW, Tile: 4));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void F2_Forward_MatchesDirectConvolution(int num, int channels, int height, int width, int outChannels, int groups, int padH, int padW) =>
        CheckAgainstDirect(new WinogradShape(num, channels, height, width, outChannels, groups, padH, padW, Tile: 2));

    private static void CheckAgainstDirect(WinogradShape s)
    {
        int num = s.Num, channels = s.Channels, height = s.Height, width = s.Width, outChannels = s.OutChannels, groups = s.Groups;
        var rng = new Random(1701 + channels + height);
        var x = Fill(rng, num * channels * height * width, 0f, 1f);
        float std = MathF.Sqrt(2f / (9 * channels / groups));
        var w = Gaussian(rng, outChannels * (channels / groups) * 9, std);
        var bias = Gaussian(rng, outChannels, 0.1f);
        var expected = Direct(s, x, w, bias, relu: false);

        // NaN past the end of u: the kernel must read only the tile's own (Points, Cp, Kp) weights.
        var u = Enumerable.Repeat(float.NaN, Winograd.TransformedWeightsLength(outChannels, channels, groups, s.Tile) + 64).ToArray();
        Winograd.TransformWeights(w, outChannels, channels, groups, u, s.Tile);
        // Guard floats after y and scratch: the kernel must write only inside the lengths it asked for.
        const int guard = 256;
        var scratch = Enumerable.Repeat(float.NaN, (int)Winograd.ScratchLength(s) + guard).ToArray();
        scratch.AsSpan(scratch.Length - guard).Fill(-7f);
        var y = Enumerable.Repeat(float.NaN, expected.Length + guard).ToArray();
        y.AsSpan(expected.Length).Fill(-7f);
        Winograd.Forward(s, x, u, bias, activation: false, 0f, y.AsSpan(0, expected.Length), scratch.AsSpan(0, scratch.Length - guard));

        AssertClose(expected, y[..expected.Length], RelativeBound);
        Assert.All(y[expected.Length..], v => Assert.Equal(-7f, v));
        Assert.All(scratch[^guard..], v => Assert.Equal(-7f, v));
    }

    [Theory]
    [InlineData(0f, 4)]
    [InlineData(0.1f, 4)]
    [InlineData(0f, 2)]
    [InlineData(0.1f, 2)]
    public void Forward_WithFusedReluAndNoBias_MatchesDirect(float negativeSlope, int tile)
    {
        var s = new WinogradShape(2, 24, 13, 10, 20, 1, 1, 1, tile);
        var rng = new Random(7);
        var x = Gaussian(rng, 2 * 24 * 13 * 10, 1f);
        var w = Gaussian(rng, 20 * 24 * 9, MathF.Sqrt(2f / (9 * 24)));
        var expected = Direct(s, x, w, [], relu: true, negativeSlope);
        var u = new float[Winograd.TransformedWeightsLength(20, 24, 1, tile)];
        Winograd.TransformWeights(w, 20, 24, 1, u, tile);
        var y = new float[expected.Length];
        Winograd.Forward(s, x, u, [], activation: true, negativeSlope, y, new float[Winograd.ScratchLength(s)]);
        AssertClose(expected, y, RelativeBound);
        // The activation has something to do: some outputs are negative before it.
        Assert.Contains(Direct(s, x, w, [], relu: false), v => v < 0);
    }

    // The packed transformed weights give the plain path's result bit for bit: same GEMM kernels and order, on blocks under
    // and over 96 tiles (where the plain path reads U in place, and where it repacks it), with groups and padded channels.
    [Theory]
    [InlineData(4, 1)]
    [InlineData(2, 1)]
    [InlineData(4, 3)]
    [InlineData(2, 2)]
    public void Forward_PackedWeights_EqualThePlainPath(int tile, int num)
    {
        var s = new WinogradShape(num, 40, 23, 19, 36, 2, 1, 1, tile);
        var rng = new Random(12);
        var x = Fill(rng, num * 40 * 23 * 19, 0f, 1f);
        var w = Gaussian(rng, 36 * 20 * 9, 0.08f);
        var bias = Gaussian(rng, 36, 0.1f);
        var u = new float[Winograd.TransformedWeightsLength(36, 40, 2, tile)];
        Winograd.TransformWeights(w, 36, 40, 2, u, tile);
        var scratch = new float[Winograd.ScratchLength(s)];
        var plain = new float[num * 36 * 23 * 19];
        var packed = Enumerable.Repeat(float.NaN, plain.Length).ToArray();
        Winograd.Forward(s, x, u, bias, true, 0.1f, plain, scratch);
        Winograd.Forward(s, x, Winograd.PackTransformedWeights(u, s), bias, true, 0.1f, packed, scratch);
        Assert.Equal(plain, packed);
        Assert.Throws<ArgumentException>(() => Winograd.Forward(s, x, new PackedMatrix[3], bias, true, 0.1f, packed, scratch));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(2)]
    public void Forward_SameResultOnOneAndTwoThreads(int tile)
    {
        var s = new WinogradShape(1, 32, 20, 20, 32, 1, 1, 1, tile);
        var rng = new Random(11);
        var x = Fill(rng, 32 * 400, 0f, 1f);
        var w = Gaussian(rng, 32 * 32 * 9, 0.08f);
        var u = new float[Winograd.TransformedWeightsLength(32, 32, 1, tile)];
        Winograd.TransformWeights(w, 32, 32, 1, u, tile);
        var scratch = new float[Winograd.ScratchLength(s)];
        var one = new float[32 * 400];
        var two = new float[32 * 400];
        int saved = Gemm.ThreadCount;
        try
        {
            Gemm.ThreadCount = 1;
            Winograd.Forward(s, x, u, [], false, 0f, one, scratch);
            Gemm.ThreadCount = 2;
            Winograd.Forward(s, x, u, [], false, 0f, two, scratch);
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
        Assert.Equal(one, two);
    }

    [Fact]
    public void Forward_RejectsShortSpans()
    {
        var s = new WinogradShape(1, 4, 6, 6, 4, 1, 1, 1);
        var u = new float[Winograd.TransformedWeightsLength(4, 4, 1)];
        var scratch = new float[Winograd.ScratchLength(s)];
        var e = Assert.Throws<ArgumentException>(() => Winograd.Forward(s, new float[4 * 36 - 1], u, [], false, 0f, new float[4 * 36], scratch));
        Assert.Equal("x", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Winograd.Forward(s, new float[4 * 36], u, [], false, 0f, new float[4 * 36], new float[10]));
        Assert.Equal("scratch", e.ParamName);
        Assert.Throws<ArgumentException>(() => Winograd.TransformWeights(new float[36], 4, 6, 4, u));
        // F(2,3) weights are 16/36 of F(4,3)'s: a u sized for F(2,3) is too short for F(4,3).
        var u2 = new float[Winograd.TransformedWeightsLength(4, 4, 1, tile: 2)];
        Assert.Equal(16 * 16 * 16, u2.Length);
        e = Assert.Throws<ArgumentException>(() => Winograd.Forward(s, new float[4 * 36], u2, [], false, 0f, new float[4 * 36], scratch));
        Assert.Equal("u", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.TransformWeights(new float[4 * 4 * 9], 4, 4, 1, u, tile: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.Forward(s with { Tile = 3 }, new float[4 * 36], u, [], false, 0f, new float[4 * 36], scratch));
    }

    [Fact]
    public void F2_TransformWeights_MatchesHandComputedGgGt()
    {
        // One 3×3 filter w = [1 2 3; 4 5 6; 7 8 9]. Column sums of Gw (G rows 1/2·(1, ±1, 1)) give, by hand:
        // G w = [1 2 3; 6 7.5 9; 2 2.5 3; 7 8 9], and U = (G w) Gᵀ row by row.
        float[] w = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var u = new float[Winograd.TransformedWeightsLength(1, 1, 1, tile: 2)];
        Winograd.TransformWeights(w, 1, 1, 1, u, tile: 2);
        double[,] gw = { { 1, 2, 3 }, { 6, 7.5, 9 }, { 2, 2.5, 3 }, { 7, 8, 9 } };
        for (int i = 0; i < 4; i++)
        {
            double[] row = [gw[i, 0], (gw[i, 0] + gw[i, 1] + gw[i, 2]) / 2, (gw[i, 0] - gw[i, 1] + gw[i, 2]) / 2, gw[i, 2]];
            for (int j = 0; j < 4; j++)
            {
                // U[ξ, c = 0, k = 0] at ξ·Cp·Kp, Cp = Kp = 16.
                Assert.Equal(row[j], u[((i * 4) + j) * 256], 6);
            }
        }
    }

    // y[n, o, i, j] = b[o] + Σ_{c in o's group, a, b} w[o, c, a, b] · x[n, c, i − padH + a, j − padW + b], in double
    // (then the leaky ReLU when relu).
    internal static float[] Direct(in WinogradShape s, float[] x, float[] w, float[] bias, bool relu, float negativeSlope = 0f)
    {
        int oh = s.OutHeight, ow = s.OutWidth, cg = s.Channels / s.Groups, kg = s.OutChannels / s.Groups;
        var y = new float[s.Num * s.OutChannels * oh * ow];
        for (int n = 0; n < s.Num; n++)
        {
            for (int o = 0; o < s.OutChannels; o++)
            {
                int grp = o / kg;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double sum = bias.Length > 0 ? bias[o] : 0;
                        for (int c = 0; c < cg; c++)
                        {
                            int ci = (grp * cg) + c;
                            for (int a = 0; a < 3; a++)
                            {
                                int iy = i - s.PadH + a;
                                if (iy < 0 || iy >= s.Height)
                                {
                                    continue;
                                }
                                for (int b = 0; b < 3; b++)
                                {
                                    int ix = j - s.PadW + b;
                                    if (ix >= 0 && ix < s.Width)
                                    {
                                        sum += (double)w[(((o * cg) + c) * 9) + (a * 3) + b] * x[((((n * s.Channels) + ci) * s.Height) + iy) * s.Width + ix];
                                    }
                                }
                            }
                        }
                        y[((((n * s.OutChannels) + o) * oh) + i) * ow + j] = relu ? (float)(Math.Max(sum, 0) + (negativeSlope * Math.Min(sum, 0))) : (float)sum;
                    }
                }
            }
        }
        return y;
    }

    internal static void AssertClose(float[] expected, float[] actual, double relative)
    {
        double scale = 0, worst = 0;
        foreach (float v in expected)
        {
            scale = Math.Max(scale, Math.Abs(v));
        }
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }
        Assert.True(worst <= relative * Math.Max(scale, 1e-30), $"max error {worst:G3} is {worst / scale:G3} of max |y| {scale:G3} (bound {relative:G1})");
    }

    private static float[] Fill(Random rng, int count, float lo, float hi)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = lo + ((hi - lo) * rng.NextSingle());
        }
        return a;
    }

    private static float[] Gaussian(Random rng, int count, float std)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = std * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        }
        return a;
    }
}
