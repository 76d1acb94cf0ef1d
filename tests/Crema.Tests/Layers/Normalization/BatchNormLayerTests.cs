using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class BatchNormLayerTests
{
    private static LayerParameter Param(Phase phase, bool? useGlobalStats = null, float maf = 0.999f, float eps = 1e-5f)
    {
        var p = new BatchNormParameter { MovingAverageFraction = maf, Eps = eps };
        if (useGlobalStats is bool g)
        {
            p.UseGlobalStats = g;
        }
        return new LayerParameter { Name = "bn", Type = "BatchNorm", Phase = phase, BatchNormParam = p };
    }

    // Per-channel (axis 1) mean and biased variance over every other axis, in double.
    private static (double[] Mean, double[] Var) Stats(Blob x)
    {
        int num = x.ShapeAt(0), channels = x.NumAxes == 1 ? 1 : x.ShapeAt(1), spatial = x.Count / (num * channels);
        var mean = new double[channels];
        var variance = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            var values = new List<double>();
            for (int n = 0; n < num; n++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    values.Add(x.Data[(n * channels + c) * spatial + s]);
                }
            }
            mean[c] = values.Average();
            variance[c] = values.Select(v => (v - mean[c]) * (v - mean[c])).Average();
        }
        return (mean, variance);
    }

    private static float[] Normalize(Blob x, double[] mean, double[] variance, double eps)
    {
        int num = x.ShapeAt(0), channels = mean.Length, spatial = x.Count / (num * channels);
        var y = new float[x.Count];
        for (int i = 0; i < x.Count; i++)
        {
            int c = i / spatial % channels;
            y[i] = (float)((x.Data[i] - mean[c]) / Math.Sqrt(variance[c] + eps));
        }
        return y;
    }

    public static TheoryData<int[]> Shapes => new() { new[] { 2, 3, 4, 5 }, new[] { 6, 3 }, new[] { 5 }, new[] { 2, 3, 2, 2, 2 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_Train_MatchesReferenceAndUpdatesRunningSums(int[] shape)
    {
        var x1 = TestBlobs.Gaussian(1701, 2f, shape);
        var x2 = TestBlobs.Uniform(3, -1, 4, shape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(Phase.Train, maf: 0.9f));
        layer.SetUp([x1], [top]);
        layer.Forward([x1], [top]);
        var (m1, v1) = Stats(x1);
        TestBlobs.AssertClose(Normalize(x1, m1, v1, 1e-5), top.Data, 1e-4f);

        layer.Forward([x2], [top]);
        var (m2, v2) = Stats(x2);
        TestBlobs.AssertClose(Normalize(x2, m2, v2, 1e-5), top.Data, 1e-4f);

        double m = x1.Count / m1.Length;
        double correction = m / (m - 1);
        Assert.Equal(0.9f * 1 + 1, layer.Blobs[2].Data[0], 1e-6f);
        TestBlobs.AssertClose(m1.Zip(m2, (a, b) => (float)(0.9 * a + b)).ToArray(), layer.Blobs[0].Data, 1e-5f);
        TestBlobs.AssertClose(v1.Zip(v2, (a, b) => (float)(correction * (0.9 * a + b))).ToArray(), layer.Blobs[1].Data, 1e-5f);
    }

    // Caffe's TestForward: each channel of the output has mean 0 and variance 1.
    [Fact]
    public void Forward_Train_OutputIsStandardized()
    {
        var x = TestBlobs.Gaussian(1701, 3f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(Phase.Train));
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        var (mean, variance) = Stats(top);
        Assert.All(mean, v => Assert.Equal(0, v, 1e-4));
        Assert.All(variance, v => Assert.Equal(1, v, 1e-3));
    }

    [Theory]
    [InlineData(Phase.Test, null)]
    [InlineData(Phase.Train, true)]
    public void Forward_GlobalStats_DividesStoredSumsByScaleFactor(Phase phase, bool? useGlobal)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var p = Param(phase, useGlobal);
        p.Blobs.Add(TestBlobs.FromValues([3], 0.4f, -1f, 2f).ToProto());
        p.Blobs.Add(TestBlobs.FromValues([3], 1f, 0.5f, 6f).ToProto());
        p.Blobs.Add(TestBlobs.FromValues([1], 2f).ToProto());
        var top = new Blob();
        var layer = LayerRegistry.Create(p);
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        Assert.True(((BatchNormLayer)layer).UseGlobalStats);
        TestBlobs.AssertClose(Normalize(x, [0.2, -0.5, 1], [0.5, 0.25, 3], 1e-5), top.Data, 1e-5f);
        Assert.Equal(2f, layer.Blobs[2].Data[0]);
    }

    [Fact]
    public void Forward_GlobalStats_ZeroScaleFactorMeansZeroStatistics()
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 3);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(Phase.Test, eps: 0.25f));
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        TestBlobs.AssertClose(x.Data.ToArray().Select(v => v * 2).ToArray(), top.Data, 1e-6f);
    }

    [Fact]
    public void Backward_Train_MatchesNumericGradient()
    {
        // Parameters are checked too: the output does not depend on the running sums in TRAIN, and their diffs must stay 0.
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(Phase.Train)), [TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5)], [new Blob()]);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(Phase.Train)), [TestBlobs.Gaussian(1701, 1f, 4, 3)], [new Blob()]);
    }

    [Fact]
    public void Backward_GlobalStats_MatchesNumericGradient()
    {
        var p = Param(Phase.Test);
        p.Blobs.Add(TestBlobs.FromValues([3], 0.4f, -1f, 2f).ToProto());
        p.Blobs.Add(TestBlobs.FromValues([3], 1f, 0.5f, 6f).ToProto());
        p.Blobs.Add(TestBlobs.FromValues([1], 2f).ToProto());
        // The stored statistics have no gradient by design, so only the bottom is checked.
        new GradientChecker(1e-2f, 1e-3f) { CheckParameters = false }.CheckGradient(LayerRegistry.Create(p), [TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5)], [new Blob()]);
    }

    [Theory]
    [InlineData(Phase.Train)]
    [InlineData(Phase.Test)]
    public void Backward_LeavesStatisticDiffsZero_InPlace(Phase phase)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var layer = LayerRegistry.Create(Param(phase));
        layer.SetUp([x], [x]);
        layer.Forward([x], [x]);
        TestBlobs.Uniform(7, -1, 1, 2, 3, 4, 5).Data.CopyTo(x.Diff);
        layer.Backward([x], [true], [x]);
        Assert.All(layer.Blobs, b => Assert.All(b.Diff.ToArray(), d => Assert.Equal(0f, d)));
        Assert.Contains(x.Diff.ToArray(), d => d != 0);
    }

    [Fact]
    public void InPlace_MatchesOutOfPlace()
    {
        float[] dy = TestBlobs.Uniform(7, -1, 1, 2, 3, 4, 5).Data.ToArray();
        (float[] Y, float[] Dx) Run(bool inPlace)
        {
            var x = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
            var top = inPlace ? x : new Blob();
            var layer = LayerRegistry.Create(Param(Phase.Train));
            layer.SetUp([x], [top]);
            layer.Forward([x], [top]);
            float[] y = top.Data.ToArray();
            dy.CopyTo(top.Diff);
            layer.Backward([top], [true], [x]);
            return (y, x.Diff.ToArray());
        }
        var a = Run(false);
        var b = Run(true);
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.Dx, b.Dx);
    }

    [Fact]
    public void SetUp_MasksStatisticsFromTheSolver()
    {
        var p = Param(Phase.Train);
        var layer = LayerRegistry.Create(p);
        layer.SetUp([new Blob(2, 3)], [new Blob()]);
        Assert.Equal(3, p.Param.Count);
        Assert.All(p.Param, s => Assert.Equal(0f, s.LrMult));
        Assert.Equal([3], layer.Blobs[0].Shape);
        Assert.Equal([1], layer.Blobs[2].Shape);
    }

    [Fact]
    public void LearnableStatistics_Throw()
    {
        var p = Param(Phase.Train);
        p.Param.Add(new ParamSpec { LrMult = 0 });
        p.Param.Add(new ParamSpec { LrMult = 1 });
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(p).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'bn'", e.Message);
        Assert.Contains("param #1 has lr_mult 1", e.Message);
    }

    [Fact]
    public void StoredStatisticsOfWrongShape_Throw()
    {
        var p = Param(Phase.Test);
        p.Blobs.Add(new Blob(4).ToProto());
        p.Blobs.Add(new Blob(4).ToProto());
        p.Blobs.Add(new Blob(1).ToProto());
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(p).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'bn'", e.Message);
        Assert.Contains("3 channels", e.Message);
    }

    [Fact]
    public void NegativeEpsOrChannelChange_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(Phase.Train, eps: -1)).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'bn'", e.Message);
        Assert.Contains("eps must be >= 0, got -1", e.Message);

        var layer = LayerRegistry.Create(Param(Phase.Train));
        layer.SetUp([new Blob(2, 3)], [new Blob()]);
        e = Assert.Throws<CremaException>(() => layer.Forward([new Blob(2, 5)], [new Blob()]));
        Assert.Contains("5 channels", e.Message);
    }
}
