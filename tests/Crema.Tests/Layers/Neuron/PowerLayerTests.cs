using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class PowerLayerTests
{
    private static LayerParameter Param(float power, float scale, float shift) =>
        new() { Name = "pow", Type = "Power", PowerParam = new PowerParameter { Power = power, Scale = scale, Shift = shift } };

    // Gaussian input for integer powers (negative bases are fine); positive bases (x in [0.5, 1.5], shift ≥ 1) otherwise.
    private static Blob InputFor(float power) =>
        power == MathF.Round(power) ? Input() : TestBlobs.Uniform(1701, 0.5f, 1.5f, Shape);

    [Theory]
    [InlineData(1f, 0.83f, -0.34f)]
    [InlineData(0f, 0.83f, -0.34f)]
    [InlineData(0f, 0.83f, 0f)]
    [InlineData(2f, 0.34f, -2.4f)]
    [InlineData(2f, 0.5f, 0f)]
    [InlineData(3f, 0.5f, -1f)]
    [InlineData(0.37f, 0.83f, 1f)]
    [InlineData(-1.5f, 0.83f, 1f)]
    [InlineData(2.5f, 0f, 1.7f)]
    public void Forward_MatchesReference(float power, float scale, float shift) =>
        AssertForward(Param(power, scale, shift), InputFor(power), x => (float)Math.Pow(shift + (double)scale * x, power));

    [Theory]
    [InlineData(1f, 0.83f, -0.34f)]
    [InlineData(0f, 0.83f, -0.34f)]
    [InlineData(2f, 0.34f, -2.4f)]
    [InlineData(2f, 0.5f, 0f)]
    [InlineData(3f, 0.5f, -1f)]
    [InlineData(0.37f, 0.83f, 1f)]
    [InlineData(-1.5f, 0.83f, 1f)]
    [InlineData(2.5f, 0f, 1.7f)]
    public void Backward_MatchesNumericGradient(float power, float scale, float shift) =>
        CheckElementwise(Param(power, scale, shift), InputFor(power));

    // Caffe's backward divides y by the base, which is 0/0 where shift + scale·x = 0; Crema's stays finite.
    [Fact]
    public void Backward_IsFiniteWhereTheBaseIsZero()
    {
        var bottom = TestBlobs.FromValues([2], 0, 1);
        var top = new Blob();
        var layer = Create(Param(3, 2, 0));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        top.Diff.Fill(1);
        layer.Backward([top], [true], [bottom]);
        Assert.Equal([0f, 24f], bottom.Diff.ToArray());
    }

    [Theory]
    [InlineData(1f, 0.83f, -0.34f)]
    [InlineData(2f, 0.34f, -2.4f)]
    [InlineData(0.37f, 0.83f, 1f)]
    public void InPlace_MatchesOutOfPlace(float power, float scale, float shift) =>
        AssertInPlaceMatchesOutOfPlace(Param(power, scale, shift), InputFor(power));
}
