using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class LogLayerTests
{
    private static LayerParameter Param(float @base, float scale, float shift) =>
        new() { Name = "log", Type = "Log", LogParam = new LogParameter { Base = @base, Scale = scale, Shift = shift } };

    // The log needs shift + scale·x > 0: x in [0.5, 1.5].
    private static Blob Positive() => TestBlobs.Uniform(1701, 0.5f, 1.5f, Shape);

    // Caffe's TestLogLayerWithShift/Base: base 2, scale 3, shift 1; base −1 means e.
    [Theory]
    [InlineData(-1f, 1f, 0f)]
    [InlineData(2f, 3f, 1f)]
    [InlineData(2f, 1f, 0f)]
    [InlineData(10f, 0.5f, 0.2f)]
    public void Forward_MatchesReference(float @base, float scale, float shift)
    {
        double b = @base == -1 ? Math.E : @base;
        AssertForward(Param(@base, scale, shift), Positive(), x => (float)(Math.Log(shift + (double)scale * x) / Math.Log(b)), 2e-6f);
    }

    [Theory]
    [InlineData(-1f, 1f, 0f)]
    [InlineData(2f, 3f, 1f)]
    [InlineData(10f, 0.5f, 0.2f)]
    public void Backward_MatchesNumericGradient(float @base, float scale, float shift) =>
        CheckElementwise(Param(@base, scale, shift), Positive());

    [Fact]
    public void InPlace_MatchesOutOfPlace() => AssertInPlaceMatchesOutOfPlace(Param(2, 3, 1), Positive());

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void SetUp_RejectsBadBase(float @base)
    {
        var ex = Assert.Throws<CremaException>(() => Forward(Param(@base, 1, 0), Positive()));
        Assert.Contains("'log'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"base {@base}", ex.Message, StringComparison.Ordinal);
    }
}
