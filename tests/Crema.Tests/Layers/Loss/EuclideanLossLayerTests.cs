using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class EuclideanLossLayerTests
{
    private static EuclideanLossLayer Make(float? lossWeight = null)
    {
        var p = new LayerParameter { Name = "loss", Type = "EuclideanLoss" };
        if (lossWeight is float w)
        {
            p.LossWeight.Add(w);
        }
        return new EuclideanLossLayer(p);
    }

    [Fact]
    public void Forward_MatchesReference()
    {
        var a = TestBlobs.Gaussian(1701, 1f, 10, 5, 1, 1);
        var b = TestBlobs.Gaussian(1702, 1f, 10, 5, 1, 1);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([a, b], [top]);
        float returned = layer.Forward([a, b], [top]);
        double sum = 0;
        for (int i = 0; i < a.Count; i++)
        {
            sum += (a.Data[i] - b.Data[i]) * (double)(a.Data[i] - b.Data[i]);
        }
        Assert.Equal((float)(sum / 10 / 2), top.Data[0], 1e-5f);
        Assert.Equal(top.Data[0], returned);
    }

    [Fact]
    public void Forward_LossWeight_ScalesReturnedLoss()
    {
        // Caffe's TestForward: loss_weight 3.7 gives exactly 3.7 × the unweighted loss.
        var a = TestBlobs.Gaussian(1701, 1f, 10, 5, 1, 1);
        var b = TestBlobs.Gaussian(1702, 1f, 10, 5, 1, 1);
        float plain = Make().SetUpAndForward(a, b);
        float weighted = Make(3.7f).SetUpAndForward(a, b);
        Assert.Equal(3.7f * plain, weighted, 1e-5f);
    }

    [Fact]
    public void Forward_HandComputed()
    {
        var a = TestBlobs.FromValues([2, 2], 1, 2, 3, 4);
        var b = TestBlobs.FromValues([2, 2], 0, 0, 3, 6);
        Assert.Equal((1f + 4 + 0 + 4) / 2 / 2, Make().SetUpAndForward(a, b));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(3.7f)]
    public void Backward_MatchesNumericGradient(float? lossWeight)
    {
        var a = TestBlobs.Gaussian(1701, 1f, 10, 5, 1, 1);
        var b = TestBlobs.Gaussian(1702, 1f, 10, 5, 1, 1);
        new GradientChecker(1e-2f, 1e-2f).CheckGradient(Make(lossWeight), [a, b], [new Blob()]);
    }

    [Fact]
    public void SetUp_CountMismatch_NamesBothShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(10, 5), new Blob(10, 4)], [new Blob()]));
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("(10, 5)", e.Message);
        Assert.Contains("(10, 4)", e.Message);
    }

    [Fact]
    public void SetUp_OneBottom_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(10, 5)], [new Blob()]));
        Assert.Contains("'loss'", e.Message);
    }
}

internal static class LossLayerTestExtensions
{
    public static float SetUpAndForward(this Layer layer, Blob a, Blob b)
    {
        var top = new Blob();
        layer.SetUp([a, b], [top]);
        return layer.Forward([a, b], [top]);
    }
}
