using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class SoftmaxLayerTests
{
    private static SoftmaxLayer Make(int axis = 1) =>
        new(new LayerParameter { Name = "prob", Type = "Softmax", SoftmaxParam = new SoftmaxParameter { Axis = axis } });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Forward_MatchesReference(int axis)
    {
        var bottom = TestBlobs.Gaussian(1701, 3f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = Make(axis);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);

        Assert.Equal(bottom.Shape, top.Shape);
        int a = bottom.CanonicalAxis(axis);
        int outer = bottom.CountRange(0, a), channels = bottom.ShapeAt(a), inner = bottom.CountFrom(a + 1);
        var expected = new float[bottom.Count];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                double sum = 0;
                for (int c = 0; c < channels; c++)
                {
                    sum += Math.Exp(bottom.Data[(o * channels + c) * inner + i]);
                }
                for (int c = 0; c < channels; c++)
                {
                    int k = (o * channels + c) * inner + i;
                    expected[k] = (float)(Math.Exp(bottom.Data[k]) / sum);
                }
            }
        }
        TestBlobs.AssertClose(expected, top.Data, 1e-5f);
    }

    [Fact]
    public void Forward_LargeInputs_StayFinite()
    {
        var bottom = TestBlobs.FromValues([1, 3], 1000f, 1001f, 999f);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        double z = 1 + Math.E + Math.Exp(-1);
        TestBlobs.AssertClose([(float)(1 / z), (float)(Math.E / z), (float)(Math.Exp(-1) / z)], top.Data, 1e-5f);
    }

    [Fact]
    public void Forward_InPlace_MatchesOutOfPlace()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var copy = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        var inPlace = Make();
        inPlace.SetUp([copy], [copy]);
        inPlace.Forward([copy], [copy]);
        TestBlobs.AssertClose(top.Data, copy.Data, 1e-6f);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void Backward_MatchesNumericGradient(int axis)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(axis), [bottom], [new Blob()]);
    }

    [Fact]
    public void SetUp_BadAxis_NamesLayerAndAxis()
    {
        var e = Assert.Throws<CremaException>(() => Make(4).SetUp([new Blob(2, 3, 4, 5)], [new Blob()]));
        Assert.Contains("'prob'", e.Message);
        Assert.Contains("axis 4", e.Message);
    }

    [Fact]
    public void SetUp_TwoBottoms_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(2, 3), new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'prob'", e.Message);
    }
}
