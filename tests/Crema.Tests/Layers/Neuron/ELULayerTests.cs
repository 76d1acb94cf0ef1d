using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class ELULayerTests
{
    private static LayerParameter Param(float? alpha)
    {
        var p = new LayerParameter { Name = "elu", Type = "ELU" };
        if (alpha is float a)
        {
            p.EluParam = new ELUParameter { Alpha = a };
        }
        return p;
    }

    // Caffe's TestELU: alpha 0.5, tolerance 2e-4.
    [Theory]
    [InlineData(null)]
    [InlineData(0.5f)]
    [InlineData(0f)]
    [InlineData(-0.5f)]
    public void Forward_MatchesReference(float? alpha)
    {
        double a = alpha ?? 1;
        AssertForward(Param(alpha), Input(), x => x > 0 ? x : (float)(a * (Math.Exp(x) - 1)), 2e-6f);
    }

    [Fact]
    public void Forward_LargeInputsStayFinite()
    {
        var top = Forward(Param(1), TestBlobs.FromValues([4], -100, -1, 100, 1e30f));
        TestBlobs.AssertClose([-1f, MathF.Exp(-1) - 1, 100f, 1e30f], top.Data, 1e-6f);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(-0.5f)]
    public void Backward_MatchesNumericGradient(float alpha) => CheckElementwise(Param(alpha), Input(), 0, 0.01f);

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(-0.5f)]
    public void InPlace_MatchesOutOfPlace(float alpha) => AssertInPlaceMatchesOutOfPlace(Param(alpha), Input());
}
