using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class AbsValLayerTests
{
    private static readonly LayerParameter Param = new() { Name = "abs", Type = "AbsVal" };

    [Fact]
    public void Forward_MatchesReference() => AssertForward(Param, Input(), x => x < 0 ? -x : x, 0);

    [Fact]
    public void Backward_MatchesNumericGradient() => CheckElementwise(Param, Input(), 0, 0.01f);

    // Caffe refuses in-place AbsVal; Crema keeps a copy of x so in-place nets work.
    [Fact]
    public void InPlace_MatchesOutOfPlace() => AssertInPlaceMatchesOutOfPlace(Param, Input());
}
