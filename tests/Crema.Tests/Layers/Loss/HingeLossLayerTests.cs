using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Norm = Crema.Proto.HingeLossParameter.Types.Norm;

namespace Crema.Tests.Layers;

public class HingeLossLayerTests
{
    private static HingeLossLayer Make(Norm norm) =>
        new(new LayerParameter { Name = "hinge", Type = "HingeLoss", HingeLossParam = new HingeLossParameter { Norm = norm } });

    private static (Blob Scores, Blob Labels) Inputs()
    {
        var scores = TestBlobs.Gaussian(1701, 2f, 10, 5, 1, 1);
        var labels = new Blob(10);
        var random = new Random(1702);
        for (int i = 0; i < 10; i++)
        {
            labels.Data[i] = random.Next(5);
        }
        return (scores, labels);
    }

    [Theory]
    [InlineData(Norm.L1)]
    [InlineData(Norm.L2)]
    public void Forward_MatchesReference(Norm norm)
    {
        var (x, labels) = Inputs();
        var top = new Blob();
        var layer = Make(norm);
        layer.SetUp([x, labels], [top]);
        layer.Forward([x, labels], [top]);
        double expected = 0;
        for (int n = 0; n < 10; n++)
        {
            for (int k = 0; k < 5; k++)
            {
                double sign = k == (int)labels.Data[n] ? 1 : -1;
                double t = Math.Max(0, 1 - sign * x.Data[n * 5 + k]);
                expected += norm == Norm.L2 ? t * t : t;
            }
        }
        Assert.Equal((float)(expected / 10), top.Data[0], 1e-4f);
    }

    [Theory]
    [InlineData(Norm.L1)]
    [InlineData(Norm.L2)]
    public void Backward_MatchesNumericGradient(Norm norm)
    {
        var (x, labels) = Inputs();
        new GradientChecker(1e-2f, 2e-3f).CheckGradient(Make(norm), [x, labels], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void Forward_LabelOutOfRange_NamesLabel()
    {
        var (x, labels) = Inputs();
        labels.Data[0] = -1;
        var top = new Blob();
        var layer = Make(Norm.L1);
        layer.SetUp([x, labels], [top]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([x, labels], [top]));
        Assert.Contains("'hinge'", e.Message);
        Assert.Contains("label -1", e.Message);
    }
}
