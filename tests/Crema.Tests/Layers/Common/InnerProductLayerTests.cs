using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class InnerProductLayerTests
{
    private static LayerParameter Param(int numOutput, int axis = 1, bool transpose = false, bool bias = true) => new()
    {
        Name = "ip",
        Type = "InnerProduct",
        InnerProductParam = new InnerProductParameter
        {
            NumOutput = (uint)numOutput, Axis = axis, Transpose = transpose, BiasTerm = bias,
            WeightFiller = new FillerParameter { Type = "gaussian", Std = 1 },
            BiasFiller = new FillerParameter { Type = "gaussian", Std = 1 },
        },
    };

    [Theory]
    [InlineData(1, false, true)]
    [InlineData(1, true, true)]
    [InlineData(1, false, false)]
    [InlineData(2, false, true)]
    [InlineData(2, true, true)]
    [InlineData(-1, false, true)]
    [InlineData(0, true, true)]
    public void Forward_MatchesReference(int axis, bool transpose, bool bias)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var top = new Blob();
        Rng.Seed(1701);
        var layer = new InnerProductLayer(Param(7, axis, transpose, bias));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);

        int a = bottom.CanonicalAxis(axis);
        int m = bottom.CountRange(0, a), k = bottom.CountFrom(a);
        Assert.Equal([.. bottom.Shape.Take(a), 7], top.Shape);
        Assert.Equal(transpose ? [k, 7] : new[] { 7, k }, layer.Blobs[0].Shape);
        var w = layer.Blobs[0].Data.ToArray();
        var x = bottom.Data.ToArray();
        var expected = new float[m * 7];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < 7; j++)
            {
                double sum = bias ? layer.Blobs[1].Data[j] : 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)x[i * k + p] * (transpose ? w[p * 7 + j] : w[j * k + p]);
                }
                expected[i * 7 + j] = (float)sum;
            }
        }
        TestBlobs.AssertClose(expected, top.Data);
    }

    [Theory]
    [InlineData(1, false, true)]
    [InlineData(1, true, true)]
    [InlineData(2, false, false)]
    [InlineData(2, true, true)]
    public void Backward_MatchesNumericGradient(int axis, bool transpose, bool bias)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 2, 2);
        Rng.Seed(1701);
        var layer = new InnerProductLayer(Param(4, axis, transpose, bias));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [bottom], [new Blob()]);
    }

    [Fact]
    public void Backward_AccumulatesParameterGradients()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 6);
        var top = new Blob();
        var layer = new InnerProductLayer(Param(3));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        top.Diff.Fill(1f);
        layer.Backward([top], [false], [bottom]);
        var once = layer.Blobs[0].Diff.ToArray();
        layer.Backward([top], [false], [bottom]);
        TestBlobs.AssertClose(once.Select(v => 2 * v).ToArray(), layer.Blobs[0].Diff);
        Assert.All(layer.Blobs[1].Diff.ToArray(), v => Assert.Equal(4f, v));
    }

    [Fact]
    public void BadParameters_Throw()
    {
        var ex = Assert.Throws<CremaException>(() => new InnerProductLayer(Param(0)).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'ip'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("num_output must be > 0", ex.Message, StringComparison.Ordinal);

        var layer = new InnerProductLayer(Param(4));
        layer.SetUp([new Blob(2, 3, 4)], [new Blob()]);
        ex = Assert.Throws<CremaException>(() => layer.Reshape([new Blob(2, 3, 5)], [new Blob()]));
        Assert.Contains("15 inputs per row", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expect 12", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<CremaException>(() => new InnerProductLayer(Param(4, axis: 3)).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("axis 3 out of range", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadedLegacyBlobs_AreKeptWithCanonicalShapes()
    {
        var param = Param(3);
        var w = TestBlobs.Gaussian(5, 1f, 1, 1, 3, 4);
        param.Blobs.Add(w.ToProto());
        param.Blobs.Add(TestBlobs.FromValues([1, 1, 1, 3], 1, 2, 3).ToProto());
        var layer = new InnerProductLayer(param);
        layer.SetUp([new Blob(2, 4)], [new Blob()]);
        Assert.Equal([3, 4], layer.Blobs[0].Shape);
        Assert.Equal([3], layer.Blobs[1].Shape);
        Assert.Equal(w.Data.ToArray(), layer.Blobs[0].Data.ToArray());
        Assert.Equal([1f, 2f, 3f], layer.Blobs[1].Data.ToArray());

        var bad = Param(3);
        bad.Blobs.Add(new Blob(3, 5).ToProto());
        bad.Blobs.Add(new Blob(3).ToProto());
        var ex = Assert.Throws<CremaException>(() => new InnerProductLayer(bad).SetUp([new Blob(2, 4)], [new Blob()]));
        Assert.Contains("weight shape (3, 5) does not match the expected (3, 4)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegistered() => Assert.Equal(typeof(InnerProductLayer), LayerRegistry.TypeOf("InnerProduct"));
}
