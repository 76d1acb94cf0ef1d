using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class MultinomialLogisticLossLayerTests
{
    private static MultinomialLogisticLossLayer Make() => new(new LayerParameter { Name = "loss", Type = "MultinomialLogisticLoss" });

    private static (Blob Prob, Blob Label) Inputs()
    {
        var prob = TestBlobs.Uniform(1701, 0.2f, 1f, 10, 5, 1, 1);
        var label = new Blob(10);
        var random = new Random(1702);
        for (int i = 0; i < 10; i++)
        {
            label.Data[i] = random.Next(5);
        }
        return (prob, label);
    }

    [Fact]
    public void Forward_MatchesReference()
    {
        var (prob, label) = Inputs();
        var top = new Blob();
        var layer = Make();
        layer.SetUp([prob, label], [top]);
        layer.Forward([prob, label], [top]);
        double expected = 0;
        for (int n = 0; n < 10; n++)
        {
            expected -= Math.Log(prob.Data[n * 5 + (int)label.Data[n]]);
        }
        Assert.Equal((float)(expected / 10), top.Data[0], 1e-5f);
    }

    [Fact]
    public void Forward_ZeroProbability_IsCappedNotInfinite()
    {
        var prob = TestBlobs.FromValues([1, 2], 0f, 1f);
        var label = TestBlobs.FromValues([1], 0);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([prob, label], [top]);
        layer.Forward([prob, label], [top]);
        Assert.Equal((float)-Math.Log(1e-20), top.Data[0], 1e-3f);
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var (prob, label) = Inputs();
        new GradientChecker(1e-2f, 2e-2f).CheckGradient(Make(), [prob, label], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void Forward_LabelOutOfRange_NamesLabel()
    {
        var (prob, label) = Inputs();
        label.Data[3] = 9;
        var top = new Blob();
        var layer = Make();
        layer.SetUp([prob, label], [top]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([prob, label], [top]));
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("label 9", e.Message);
    }

    [Fact]
    public void SetUp_BatchMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(10, 5), new Blob(9)], [new Blob()]));
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("(9)", e.Message);
    }
}
