using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class MVNLayerTests
{
    private static readonly int[] Shape = [2, 3, 4, 5];

    private static LayerParameter Param(bool normalizeVariance, bool acrossChannels, float eps = 1e-9f) => new()
    {
        Name = "mvn",
        Type = "MVN",
        MvnParam = new MVNParameter { NormalizeVariance = normalizeVariance, AcrossChannels = acrossChannels, Eps = eps },
    };

    private static float[] Reference(Blob x, bool normalizeVariance, bool acrossChannels, double eps)
    {
        int rows = acrossChannels ? x.Num : x.Num * x.Channels, dim = x.Count / rows;
        var y = new float[x.Count];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < dim; i++)
            {
                mean += x.Data[r * dim + i];
            }
            mean /= dim;
            for (int i = 0; i < dim; i++)
            {
                variance += Math.Pow(x.Data[r * dim + i] - mean, 2);
            }
            double divisor = normalizeVariance ? Math.Sqrt(variance / dim) + eps : 1;
            for (int i = 0; i < dim; i++)
            {
                y[r * dim + i] = (float)((x.Data[r * dim + i] - mean) / divisor);
            }
        }
        return y;
    }

    [Theory]
    [InlineData(true, false, 1e-9f)]
    [InlineData(true, true, 1e-9f)]
    [InlineData(false, false, 1e-9f)]
    [InlineData(false, true, 1e-9f)]
    [InlineData(true, false, 0.5f)]
    public void Forward_MatchesReference(bool normalizeVariance, bool acrossChannels, float eps)
    {
        var x = TestBlobs.Uniform(1701, -2, 5, Shape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(normalizeVariance, acrossChannels, eps));
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        TestBlobs.AssertClose(Reference(x, normalizeVariance, acrossChannels, eps), top.Data, 1e-5f);
    }

    // eps = 0.5 makes the (σ+eps)/σ factor matter: Caffe's approximate backward would fail this check.
    [Theory]
    [InlineData(true, false, 1e-9f)]
    [InlineData(true, true, 1e-9f)]
    [InlineData(false, false, 1e-9f)]
    [InlineData(false, true, 1e-9f)]
    [InlineData(true, false, 0.5f)]
    public void Backward_MatchesNumericGradient(bool normalizeVariance, bool acrossChannels, float eps)
    {
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(normalizeVariance, acrossChannels, eps)),
            [TestBlobs.Gaussian(1701, 1f, Shape)], [new Blob()]);
    }

    [Fact]
    public void ConstantRow_GivesZerosWithoutNaN()
    {
        var x = new Blob(1, 2, 2, 2);
        x.Data.Fill(3);
        var layer = LayerRegistry.Create(Param(true, false));
        layer.SetUp([x], [x]);
        layer.Forward([x], [x]);
        Assert.All(x.Data.ToArray(), v => Assert.Equal(0f, v));
        x.Diff.Fill(1);
        layer.Backward([x], [true], [x]);
        Assert.All(x.Diff.ToArray(), d => Assert.True(float.IsFinite(d)));
    }

    [Fact]
    public void InPlace_MatchesOutOfPlace()
    {
        float[] dy = TestBlobs.Uniform(7, -1, 1, Shape).Data.ToArray();
        (float[] Y, float[] Dx) Run(bool inPlace)
        {
            var x = TestBlobs.Gaussian(1701, 1f, Shape);
            var top = inPlace ? x : new Blob();
            var layer = LayerRegistry.Create(Param(true, true));
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
    public void BadParameters_Throw()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(true, false, -1)).SetUp([new Blob(Shape)], [new Blob()]));
        Assert.Contains("'mvn'", e.Message);
        Assert.Contains("eps must be >= 0, got -1", e.Message);
        e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(true, false)).SetUp([new Blob(2, 3, 4, 5, 6)], [new Blob()]));
        Assert.Contains("'mvn'", e.Message);
        Assert.Contains("got 5", e.Message);
    }
}
