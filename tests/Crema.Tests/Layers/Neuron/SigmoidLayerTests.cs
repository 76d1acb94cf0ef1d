using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class SigmoidLayerTests
{
    private static readonly LayerParameter Param = new() { Name = "sig", Type = "Sigmoid" };

    [Theory]
    [InlineData(1f)]
    [InlineData(10f)]
    public void Forward_MatchesReference(float std) => AssertForward(Param, Input(std), x => (float)(1 / (1 + Math.Exp(-x))));

    [Fact]
    public void Backward_MatchesNumericGradient() => CheckElementwise(Param, Input());

    [Fact]
    public void InPlace_MatchesOutOfPlace() => AssertInPlaceMatchesOutOfPlace(Param, Input());
}
