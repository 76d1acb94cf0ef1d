using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class ContrastiveLossLayerTests
{
    private static ContrastiveLossLayer Make(bool legacy, float margin = 1f) =>
        new(new LayerParameter { Name = "contrastive", Type = "ContrastiveLoss", ContrastiveLossParam = new ContrastiveLossParameter { Margin = margin, LegacyVersion = legacy } });

    private static Blob[] Inputs(int pairs = 512)
    {
        // Caffe's fixture: pairs of 2-d features, similarity labels random in {0, 1}.
        var a = TestBlobs.Uniform(1701, -0.6f, 0.6f, pairs, 2, 1, 1);
        var b = TestBlobs.Uniform(1702, -0.6f, 0.6f, pairs, 2, 1, 1);
        var y = new Blob(pairs, 1, 1, 1);
        var random = new Random(1703);
        for (int i = 0; i < pairs; i++)
        {
            y.Data[i] = random.Next(2);
        }
        return [a, b, y];
    }

    [Theory]
    [InlineData(false, 1f)]
    [InlineData(true, 1f)]
    [InlineData(false, 0.5f)]
    public void Forward_MatchesReference(bool legacy, float margin)
    {
        var bottoms = Inputs();
        var top = new Blob();
        var layer = Make(legacy, margin);
        layer.SetUp(bottoms, [top]);
        layer.Forward(bottoms, [top]);
        double loss = 0;
        for (int n = 0; n < 512; n++)
        {
            double dx = bottoms[0].Data[2 * n] - bottoms[1].Data[2 * n], dy = bottoms[0].Data[2 * n + 1] - bottoms[1].Data[2 * n + 1];
            double dsq = dx * dx + dy * dy;
            if (bottoms[2].Data[n] != 0)
            {
                loss += dsq;
            }
            else if (legacy)
            {
                loss += Math.Max(margin - dsq, 0);
            }
            else
            {
                loss += Math.Pow(Math.Max(margin - Math.Sqrt(dsq), 0), 2);
            }
        }
        Assert.Equal((float)(loss / 512 / 2), top.Data[0], 1e-6f);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    public void Backward_MatchesNumericGradient(bool legacy, int bottom)
    {
        new GradientChecker(1e-2f, 1e-2f).CheckGradient(Make(legacy), Inputs(64), [new Blob()], checkBottom: bottom);
    }

    [Fact]
    public void Backward_ToLabels_IsRefused()
    {
        var bottoms = Inputs(4);
        var top = new Blob();
        var layer = Make(false);
        layer.SetUp(bottoms, [top]);
        layer.Forward(bottoms, [top]);
        Assert.False(layer.AllowForceBackward(2));
        var e = Assert.Throws<CremaException>(() => layer.Backward([top], [true, true, true], bottoms));
        Assert.Contains("'contrastive'", e.Message);
    }

    [Fact]
    public void SetUp_FeatureShapeMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make(false).SetUp([new Blob(4, 2), new Blob(4, 3), new Blob(4)], [new Blob()]));
        Assert.Contains("'contrastive'", e.Message);
        Assert.Contains("(4, 3)", e.Message);
    }
}
