using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class BNLLLayerTests
{
    private static readonly LayerParameter Param = new() { Name = "bnll", Type = "BNLL" };

    [Theory]
    [InlineData(1f)]
    [InlineData(20f)]
    public void Forward_MatchesReference(float std)
    {
        AssertForward(Param, Input(std), x => (float)(x > 30 ? x : Math.Log(1 + Math.Exp(x))));
        // Caffe's TestBNLL: y ≥ 0 and y ≥ x.
        var bottom = Input(std);
        var top = Forward(Param, bottom);
        for (int i = 0; i < top.Count; i++)
        {
            Assert.True(top.Data[i] >= 0 && top.Data[i] >= bottom.Data[i], $"index {i}: x {bottom.Data[i]} y {top.Data[i]}");
        }
    }

    [Fact]
    public void Forward_ExtremeInputsStayFinite()
    {
        var top = Forward(Param, TestBlobs.FromValues([3], -200, 0, 200));
        Assert.Equal(0f, top.Data[0], 1e-30f);
        Assert.Equal(MathF.Log(2), top.Data[1], 1e-6f);
        Assert.Equal(200f, top.Data[2]);
    }

    [Fact]
    public void Backward_MatchesNumericGradient() => CheckElementwise(Param, Input());

    [Fact]
    public void InPlace_MatchesOutOfPlace() => AssertInPlaceMatchesOutOfPlace(Param, Input());
}
