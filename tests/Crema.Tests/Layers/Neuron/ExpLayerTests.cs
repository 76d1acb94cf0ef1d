using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class ExpLayerTests
{
    private static LayerParameter Param(float @base, float scale, float shift) =>
        new() { Name = "exp", Type = "Exp", ExpParam = new ExpParameter { Base = @base, Scale = scale, Shift = shift } };

    // Caffe's TestExpLayerWithShift/Base: base 2, scale 3, shift 1 (tolerance 2e-4); base −1 means e.
    [Theory]
    [InlineData(-1f, 1f, 0f)]
    [InlineData(-1f, 0.5f, -1f)]
    [InlineData(2f, 3f, 1f)]
    [InlineData(2f, 1f, 0f)]
    [InlineData(10f, 0.2f, 0.5f)]
    public void Forward_MatchesReference(float @base, float scale, float shift)
    {
        double b = @base == -1 ? Math.E : @base;
        AssertForward(Param(@base, scale, shift), Input(), x => (float)Math.Pow(b, shift + (double)scale * x), 2e-6f);
    }

    [Theory]
    [InlineData(-1f, 1f, 0f)]
    [InlineData(2f, 3f, 1f)]
    [InlineData(10f, 0.2f, 0.5f)]
    public void Backward_MatchesNumericGradient(float @base, float scale, float shift) =>
        CheckElementwise(Param(@base, scale, shift), Input());

    [Fact]
    public void InPlace_MatchesOutOfPlace() => AssertInPlaceMatchesOutOfPlace(Param(2, 3, 1), Input());

    [Theory]
    [InlineData(0f)]
    [InlineData(-2f)]
    public void SetUp_RejectsBadBase(float @base)
    {
        var ex = Assert.Throws<CremaException>(() => Forward(Param(@base, 1, 0), Input()));
        Assert.Contains("'exp'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"base {@base}", ex.Message, StringComparison.Ordinal);
    }
}
