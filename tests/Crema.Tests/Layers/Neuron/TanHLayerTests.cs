using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class TanHLayerTests
{
    private static readonly LayerParameter Param = new() { Name = "tanh", Type = "TanH" };

    [Theory]
    [InlineData(1f)]
    [InlineData(10f)]
    public void Forward_MatchesReference(float std) =>
        AssertForward(Param, Input(std), x => (float)Math.Tanh(x));

    [Fact]
    public void Backward_MatchesNumericGradient() => CheckElementwise(Param, Input());

    [Fact]
    public void InPlace_MatchesOutOfPlace() => AssertInPlaceMatchesOutOfPlace(Param, Input());
}
