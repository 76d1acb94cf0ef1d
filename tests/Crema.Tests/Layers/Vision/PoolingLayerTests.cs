using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using PoolMethod = Crema.Proto.PoolingParameter.Types.PoolMethod;
using RoundMode = Crema.Proto.PoolingParameter.Types.RoundMode;

namespace Crema.Tests.Layers;

public class PoolingLayerTests
{
    private static LayerParameter Param(PoolMethod method, int kh, int kw, int stride = 1, int pad = 0, RoundMode round = RoundMode.Ceil,
        int? strideW = null, int? padW = null)
    {
        var p = new PoolingParameter { Pool = method, RoundMode = round };
        if (kh == kw)
        {
            p.KernelSize = (uint)kh;
        }
        else
        {
            (p.KernelH, p.KernelW) = ((uint)kh, (uint)kw);
        }
        if (strideW is int sw)
        {
            (p.StrideH, p.StrideW) = ((uint)stride, (uint)sw);
        }
        else
        {
            p.Stride = (uint)stride;
        }
        if (padW is int pw)
        {
            (p.PadH, p.PadW) = ((uint)pad, (uint)pw);
        }
        else
        {
            p.Pad = (uint)pad;
        }
        return new LayerParameter { Name = "pool", Type = "Pooling", PoolingParam = p };
    }

    private static (Blob Top, Blob Mask) Run(LayerParameter param, Blob bottom, bool withMask = false)
    {
        var top = new Blob();
        var mask = new Blob();
        Blob[] tops = withMask ? [top, mask] : [top];
        var layer = new PoolingLayer(param);
        layer.SetUp([bottom], tops);
        layer.Forward([bottom], tops);
        return (top, mask);
    }

    // Each of the 2x2 (num, channel) planes holds the same input, as in Caffe's tests.
    private static Blob Replicated(int h, int w, float[] plane)
    {
        var blob = new Blob(2, 2, h, w);
        for (int i = 0; i < 4; i++)
        {
            plane.CopyTo(blob.Data.Slice(i * plane.Length));
        }
        return blob;
    }

    private static void AssertPlanes(Blob blob, int h, int w, float[] expected, float tol = 0f)
    {
        Assert.Equal([2, 2, h, w], blob.Shape);
        for (int i = 0; i < 4; i++)
        {
            TestBlobs.AssertClose(expected, blob.Data.Slice(i * expected.Length, expected.Length), tol);
        }
    }

    private static readonly float[] Magic6 =
    [
        35, 1, 6, 26, 19, 24, 3, 32, 7, 21, 23, 25, 31, 9, 2, 22, 27, 20,
        8, 28, 33, 17, 10, 15, 30, 5, 34, 12, 14, 16, 4, 36, 29, 13, 18, 11,
    ];

    [Fact]
    public void ForwardMax_Square_MatchesCaffe()
    {
        var bottom = Replicated(3, 5, [1, 2, 5, 2, 3, 9, 4, 1, 4, 8, 1, 2, 5, 2, 3]);
        var (top, mask) = Run(Param(PoolMethod.Max, 2, 2), bottom, withMask: true);
        AssertPlanes(top, 2, 4, [9, 5, 5, 8, 9, 5, 5, 8]);
        AssertPlanes(mask, 2, 4, [5, 2, 2, 9, 5, 12, 12, 9]);
    }

    [Fact]
    public void ForwardMax_RectHigh_MatchesCaffe()
    {
        var (top, mask) = Run(Param(PoolMethod.Max, 3, 2), Replicated(6, 6, Magic6), withMask: true);
        AssertPlanes(top, 4, 5, [35, 32, 26, 27, 27, 32, 33, 33, 27, 27, 31, 34, 34, 27, 27, 36, 36, 34, 18, 18]);
        AssertPlanes(mask, 4, 5, [0, 7, 3, 16, 16, 7, 20, 20, 16, 16, 12, 26, 26, 16, 16, 31, 31, 26, 34, 34]);
    }

    [Fact]
    public void ForwardMax_RectWide_MatchesCaffe()
    {
        var (top, mask) = Run(Param(PoolMethod.Max, 2, 3), Replicated(6, 6, Magic6), withMask: true);
        AssertPlanes(top, 5, 4, [35, 32, 26, 26, 32, 32, 27, 27, 33, 33, 33, 27, 34, 34, 34, 17, 36, 36, 34, 18]);
        AssertPlanes(mask, 5, 4, [0, 7, 3, 3, 7, 7, 16, 16, 20, 20, 20, 16, 26, 26, 26, 21, 31, 31, 26, 34]);
    }

    [Fact]
    public void ForwardMax_Padded_MatchesCaffe()
    {
        var bottom = TestBlobs.FromValues([1, 1, 3, 3], 1, 2, 4, 2, 3, 2, 4, 2, 1);
        var (top, _) = Run(Param(PoolMethod.Max, 3, 3, stride: 2, pad: 2), bottom);
        Assert.Equal([1, 1, 3, 3], top.Shape);
        TestBlobs.AssertClose([1, 4, 4, 4, 4, 4, 4, 4, 1], top.Data, 1e-8f);
    }

    [Fact]
    public void ForwardAve_Padded_MatchesCaffe()
    {
        var bottom = TestBlobs.FromValues([1, 1, 3, 3], 2, 2, 2, 2, 2, 2, 2, 2, 2);
        var (top, _) = Run(Param(PoolMethod.Ave, 3, 3, stride: 1, pad: 1), bottom);
        Assert.Equal([1, 1, 3, 3], top.Shape);
        TestBlobs.AssertClose([8f / 9, 4f / 3, 8f / 9, 4f / 3, 2, 4f / 3, 8f / 9, 4f / 3, 8f / 9], top.Data, 1e-6f);
    }

    [Fact]
    public void Setup_GivesCaffesShapes()
    {
        var bottom = new Blob(2, 3, 6, 5);
        Assert.Equal([2, 3, 3, 2], Run(Param(PoolMethod.Max, 3, 3, stride: 2), bottom).Top.Shape);
        Assert.Equal([2, 3, 4, 3], Run(Param(PoolMethod.Ave, 3, 3, stride: 2, pad: 1), bottom).Top.Shape);
        Assert.Equal([2, 3, 2, 2], Run(Param(PoolMethod.Max, 3, 3, stride: 2, round: RoundMode.Floor), bottom).Top.Shape);
        var global = new LayerParameter { Name = "g", Type = "Pooling", PoolingParam = new PoolingParameter { Pool = PoolMethod.Ave, GlobalPooling = true } };
        Assert.Equal([2, 3, 1, 1], Run(global, bottom).Top.Shape);
    }

    public static TheoryData<PoolMethod, int, int, int, int, int, int, RoundMode> ReferenceCases => new()
    {
        { PoolMethod.Max, 3, 3, 2, 2, 0, 0, RoundMode.Ceil },
        { PoolMethod.Max, 3, 2, 2, 1, 1, 1, RoundMode.Ceil },
        { PoolMethod.Max, 2, 2, 2, 2, 1, 0, RoundMode.Floor },
        { PoolMethod.Max, 4, 3, 3, 2, 2, 1, RoundMode.Ceil },
        { PoolMethod.Ave, 3, 3, 2, 2, 0, 0, RoundMode.Ceil },
        { PoolMethod.Ave, 3, 2, 1, 2, 1, 1, RoundMode.Ceil },
        { PoolMethod.Ave, 4, 4, 2, 2, 2, 2, RoundMode.Ceil },
        { PoolMethod.Ave, 3, 3, 2, 2, 1, 1, RoundMode.Floor },
    };

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Forward_MatchesReference(PoolMethod method, int kh, int kw, int sh, int sw, int ph, int pw, RoundMode round)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        var (top, _) = Run(Param(method, kh, kw, sh, ph, round, sw, pw), bottom);
        int height = 6, width = 5;
        int PooledSize(int size, int k, int s, int p)
        {
            double span = (double)(size + 2 * p - k) / s;
            int pooled = (int)(round == RoundMode.Ceil ? Math.Ceiling(span) : Math.Floor(span)) + 1;
            return p > 0 && (pooled - 1) * s >= size + p ? pooled - 1 : pooled;
        }
        int oh = PooledSize(height, kh, sh, ph), ow = PooledSize(width, kw, sw, pw);
        Assert.Equal([2, 3, oh, ow], top.Shape);
        var expected = new float[6 * oh * ow];
        for (int plane = 0; plane < 6; plane++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    float best = float.NegativeInfinity;
                    double sum = 0;
                    int divisor = 0;
                    for (int y = i * sh - ph; y < i * sh - ph + kh; y++)
                    {
                        for (int x = j * sw - pw; x < j * sw - pw + kw; x++)
                        {
                            // Caffe's AVE divisor counts cells up to (size + pad) but not beyond.
                            if (y < height + ph && x < width + pw)
                            {
                                divisor++;
                            }
                            if (y >= 0 && y < height && x >= 0 && x < width)
                            {
                                float v = bottom.Data[(plane * height + y) * width + x];
                                best = Math.Max(best, v);
                                sum += v;
                            }
                        }
                    }
                    expected[(plane * oh + i) * ow + j] = method == PoolMethod.Max ? best : (float)(sum / divisor);
                }
            }
        }
        TestBlobs.AssertClose(expected, top.Data, 1e-5f);
    }

    // Distinct values 0.1 apart in shuffled order: no ties and no window's max changes under a ±1e-2 step.
    private static Blob DistinctValues(int seed, params int[] shape)
    {
        var blob = new Blob(shape);
        var values = Enumerable.Range(0, blob.Count).Select(i => i * 0.1f - blob.Count * 0.05f).ToArray();
        new Random(seed).Shuffle(values);
        values.CopyTo(blob.Data);
        return blob;
    }

    [Theory]
    [InlineData(3, 3, 2, 1, false)]
    [InlineData(3, 4, 2, 1, false)]
    [InlineData(4, 3, 2, 0, true)]
    [InlineData(4, 4, 2, 0, true)]
    public void Backward_Max_MatchesNumericGradient(int kh, int kw, int stride, int pad, bool withMask)
    {
        var bottom = DistinctValues(1701, 2, 2, 6, 5);
        Blob[] tops = withMask ? [new Blob(), new Blob()] : [new Blob()];
        var layer = new PoolingLayer(Param(PoolMethod.Max, kh, kw, stride, pad));
        // The mask top is not differentiable, so the numeric check looks at top 0 alone; the mask run then checks the routing.
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [bottom], tops[..1]);
        if (withMask)
        {
            layer = new PoolingLayer(Param(PoolMethod.Max, kh, kw, stride, pad));
            layer.SetUp([bottom], tops);
            layer.Forward([bottom], tops);
            TestBlobs.Gaussian(3, 1f, tops[0].Shape.ToArray()).Data.CopyTo(tops[0].Diff);
            layer.Backward(tops, [true], [bottom]);
            // Every top gradient lands on the input its mask names.
            var expected = new float[bottom.Count];
            int plane = 6 * 5, pooled = tops[0].Height * tops[0].Width;
            for (int i = 0; i < tops[0].Count; i++)
            {
                expected[i / pooled * plane + (int)tops[1].Data[i]] += tops[0].Diff[i];
            }
            TestBlobs.AssertClose(expected, bottom.Diff);
        }
    }

    [Theory]
    [InlineData(3, 2, 0)]
    [InlineData(2, 2, 0)]
    [InlineData(3, 1, 1)]
    public void Max_TestPhase_SkipsTheMask_ButBackwardStillRoutesGradients(int kernel, int stride, int pad)
    {
        // TEST phase writes no argmax mask in forward; a backward anyway (force_backward, saliency maps) recomputes it.
        var bottom = DistinctValues(1701, 2, 3, 19, 23);
        Blob trainTop = new(), testTop = new();
        var train = new PoolingLayer(Param(PoolMethod.Max, kernel, kernel, stride, pad));
        var testParam = Param(PoolMethod.Max, kernel, kernel, stride, pad);
        testParam.Phase = Phase.Test;
        var test = new PoolingLayer(testParam);
        train.SetUp([bottom], [trainTop]);
        test.SetUp([bottom], [testTop]);
        train.Forward([bottom], [trainTop]);
        test.Forward([bottom], [testTop]);
        Assert.Equal(trainTop.Data.ToArray(), testTop.Data.ToArray());
        TestBlobs.Gaussian(3, 1f, trainTop.Shape.ToArray()).Data.CopyTo(trainTop.Diff);
        trainTop.Diff.CopyTo(testTop.Diff);
        train.Backward([trainTop], [true], [bottom]);
        var expected = bottom.Diff.ToArray();
        bottom.Diff.Fill(float.NaN);
        test.Backward([testTop], [true], [bottom]);
        Assert.Equal(expected, bottom.Diff.ToArray());
        Assert.Contains(expected, v => v != 0);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(new PoolingLayer(testParam), [DistinctValues(7, 2, 2, 6, 5)], [new Blob()]);
    }

    [Fact]
    public void Max_TestPhase_StillFillsARequestedMaskTop()
    {
        var bottom = DistinctValues(1701, 2, 2, 9, 9);
        var trainParam = Param(PoolMethod.Max, 3, 3, 2);
        var testParam = Param(PoolMethod.Max, 3, 3, 2);
        testParam.Phase = Phase.Test;
        var (_, trainMask) = Run(trainParam, bottom, withMask: true);
        var (_, testMask) = Run(testParam, bottom, withMask: true);
        Assert.Equal(trainMask.Data.ToArray(), testMask.Data.ToArray());
        Assert.Contains(trainMask.Data.ToArray(), v => v > 0);
    }

    [Theory]
    [InlineData(3, 3, 2, 0)]
    [InlineData(3, 4, 2, 0)]
    [InlineData(4, 3, 2, 2)]
    [InlineData(4, 4, 2, 2)]
    [InlineData(3, 3, 1, 1)]
    public void Backward_Ave_MatchesNumericGradient(int kh, int kw, int stride, int pad)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 2, 6, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(new PoolingLayer(Param(PoolMethod.Ave, kh, kw, stride, pad)), [bottom], [new Blob()]);
    }

    [Fact]
    public void GlobalPooling_AveragesAndMaxesWholePlanes()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        foreach (var method in new[] { PoolMethod.Ave, PoolMethod.Max })
        {
            var param = new LayerParameter { Name = "g", Type = "Pooling", PoolingParam = new PoolingParameter { Pool = method, GlobalPooling = true } };
            var (top, _) = Run(param, bottom);
            for (int plane = 0; plane < 6; plane++)
            {
                var values = bottom.Data.Slice(plane * 20, 20).ToArray();
                Assert.Equal(method == PoolMethod.Ave ? values.Average() : values.Max(), top.Data[plane], 1e-5f);
            }
        }
    }

    [Fact]
    public void Stochastic_Train_PicksWindowElements_AndRoutesGradient()
    {
        var bottom = TestBlobs.Uniform(1701, 0.1f, 1f, 2, 3, 6, 5);
        var top = new Blob();
        var layer = new PoolingLayer(Param(PoolMethod.Stochastic, 3, 3, stride: 2)) { Phase = Phase.Train };
        Rng.Seed(1701);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Equal([2, 3, 3, 2], top.Shape);
        var chosen = new List<int>();
        for (int plane = 0; plane < 6; plane++)
        {
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 2; j++)
                {
                    float v = top.Data[(plane * 3 + i) * 2 + j];
                    int found = -1;
                    for (int y = i * 2; y < Math.Min(i * 2 + 3, 6) && found < 0; y++)
                    {
                        for (int x = j * 2; x < Math.Min(j * 2 + 3, 5); x++)
                        {
                            if (bottom.Data[(plane * 6 + y) * 5 + x] == v)
                            {
                                found = (plane * 6 + y) * 5 + x;
                                break;
                            }
                        }
                    }
                    Assert.True(found >= 0, $"output {v} is not an element of its window");
                    chosen.Add(found);
                }
            }
        }
        Assert.True(top.Data.ToArray().Average() >= 0.55f);
        top.Diff.Fill(1f);
        layer.Backward([top], [true], [bottom]);
        var expected = new float[bottom.Count];
        foreach (int i in chosen)
        {
            expected[i] += 1f;
        }
        TestBlobs.AssertClose(expected, bottom.Diff);
    }

    [Fact]
    public void Stochastic_Test_IsProbabilityWeightedMean()
    {
        var bottom = TestBlobs.Uniform(1701, 0.1f, 1f, 1, 2, 5, 5);
        var layer = new PoolingLayer(Param(PoolMethod.Stochastic, 3, 3, stride: 2)) { Phase = Phase.Test };
        var top = new Blob();
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        for (int plane = 0; plane < 2; plane++)
        {
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 2; j++)
                {
                    double s1 = 0, s2 = 0, max = 0;
                    for (int y = i * 2; y < i * 2 + 3; y++)
                    {
                        for (int x = j * 2; x < j * 2 + 3; x++)
                        {
                            double v = bottom.Data[(plane * 5 + y) * 5 + x];
                            (s1, s2, max) = (s1 + v, s2 + v * v, Math.Max(max, v));
                        }
                    }
                    float actual = top.Data[(plane * 2 + i) * 2 + j];
                    Assert.Equal(s2 / s1, actual, 1e-5);
                    Assert.True(actual <= max + 1e-6);
                }
            }
        }
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [bottom], [top]);
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "pad >= kernel", "pad 3x3 must be smaller than kernel 3x3" },
        { "kernel > input", "kernel 9 larger than padded input 8 on axis 2" },
        { "global with kernel", "global_pooling takes the kernel from the input" },
        { "no kernel", "kernel_size, or both kernel_h and kernel_w, must be given" },
        { "both kernels", "give either kernel_size or kernel_h and kernel_w, not both" },
        { "mask with ave", "only MAX pooling has a second (mask) top" },
        { "zero stride", "stride must be > 0" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public void BadParameters_Throw(string which, string message)
    {
        var p = new PoolingParameter { Pool = PoolMethod.Max, KernelSize = 3, Stride = 1 };
        Blob[] tops = [new Blob()];
        switch (which)
        {
            case "pad >= kernel": p.Pad = 3; break;
            case "kernel > input": p.KernelSize = 9; p.Pad = 1; break;
            case "global with kernel": p.GlobalPooling = true; break;
            case "no kernel": p.ClearKernelSize(); break;
            case "both kernels": p.KernelH = 2; p.KernelW = 2; break;
            case "mask with ave": p.Pool = PoolMethod.Ave; tops = [new Blob(), new Blob()]; break;
            case "zero stride": p.Stride = 0; break;
        }
        var layer = new PoolingLayer(new LayerParameter { Name = "pool1", Type = "Pooling", PoolingParam = p });
        var ex = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(1, 1, 6, 5)], tops));
        Assert.Contains("pool1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegistered() => Assert.Equal(typeof(PoolingLayer), LayerRegistry.TypeOf("Pooling"));
}
