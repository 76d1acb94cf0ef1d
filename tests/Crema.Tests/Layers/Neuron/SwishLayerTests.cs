using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class SwishLayerTests
{
    private static LayerParameter Param(float? beta)
    {
        var p = new LayerParameter { Name = "swish", Type = "Swish" };
        if (beta is float b)
        {
            p.SwishParam = new SwishParameter { Beta = b };
        }
        return p;
    }

    // Caffe's TestSwishWithBeta: beta 1.5, y = x/(1 + e^(−1.5x)).
    [Theory]
    [InlineData(null)]
    [InlineData(1.5f)]
    [InlineData(0f)]
    [InlineData(-0.5f)]
    public void Forward_MatchesReference(float? beta)
    {
        double b = beta ?? 1;
        AssertForward(Param(beta), Input(), x => (float)(x / (1 + Math.Exp(-b * x))));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(1.5f)]
    [InlineData(-0.5f)]
    public void Backward_MatchesNumericGradient(float beta) => CheckElementwise(Param(beta), Input());

    [Theory]
    [InlineData(1f)]
    [InlineData(1.5f)]
    public void InPlace_MatchesOutOfPlace(float beta) => AssertInPlaceMatchesOutOfPlace(Param(beta), Input());
}
