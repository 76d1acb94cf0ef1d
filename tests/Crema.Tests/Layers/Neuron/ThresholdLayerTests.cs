using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class ThresholdLayerTests
{
    private static LayerParameter Param(float threshold) =>
        new() { Name = "thresh", Type = "Threshold", ThresholdParam = new ThresholdParameter { Threshold = threshold } };

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    [InlineData(-0.3f)]
    public void Forward_MatchesReference(float threshold) => AssertForward(Param(threshold), Input(), x => x > threshold ? 1 : 0, 0);

    [Fact]
    public void Forward_AtThresholdIsZero()
    {
        var top = Forward(Param(0.5f), TestBlobs.FromValues([3], 0.5f, 0.50001f, 0.49999f));
        Assert.Equal([0f, 1f, 0f], top.Data.ToArray());
    }

    [Fact]
    public void InPlace_Forward_MatchesOutOfPlace()
    {
        var expected = Forward(Param(0.2f), Input());
        var shared = Input();
        var layer = Create(Param(0.2f));
        layer.SetUp([shared], [shared]);
        layer.Forward([shared], [shared]);
        Assert.Equal(expected.Data.ToArray(), shared.Data.ToArray());
    }

    [Fact]
    public void Backward_IsRefused()
    {
        var bottom = Input();
        var top = new Blob();
        var layer = Create(Param(0));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        layer.Backward([top], [false], [bottom]);
        var ex = Assert.Throws<CremaException>(() => layer.Backward([top], [true], [bottom]));
        Assert.Contains("thresh", ex.Message, StringComparison.Ordinal);
    }
}
