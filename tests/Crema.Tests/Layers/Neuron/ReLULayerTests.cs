using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class ReLULayerTests
{
    private static LayerParameter Param(float slope) =>
        new() { Name = "relu", Type = "ReLU", ReluParam = new ReLUParameter { NegativeSlope = slope } };

    [Theory]
    [InlineData(0f)]
    [InlineData(0.01f)]
    [InlineData(0.25f)]
    [InlineData(-0.5f)]
    public void Forward_MatchesReference(float slope) =>
        AssertForward(Param(slope), Input(), x => x > 0 ? x : slope * x, 0);

    [Fact]
    public void Forward_DefaultsToPlainRelu()
    {
        var top = Forward(new LayerParameter { Name = "relu", Type = "ReLU" }, Input());
        Assert.All(top.Data.ToArray(), y => Assert.True(y >= 0));
        Assert.Contains(0f, top.Data.ToArray());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.01f)]
    [InlineData(-0.5f)]
    public void Backward_MatchesNumericGradient(float slope) => CheckElementwise(Param(slope), Input(), 0, 0.01f);

    [Theory]
    [InlineData(0f)]
    [InlineData(0.01f)]
    [InlineData(-0.5f)]
    public void InPlace_MatchesOutOfPlace(float slope) => AssertInPlaceMatchesOutOfPlace(Param(slope), Input());

    [Fact]
    public void Backward_ComputesNothingWithoutPropagateDown()
    {
        var bottom = Input();
        var top = new Blob();
        var layer = Create(Param(0.1f));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        bottom.Diff.Fill(42);
        top.Diff.Fill(1);
        layer.Backward([top], [false], [bottom]);
        Assert.All(bottom.Diff.ToArray(), d => Assert.Equal(42f, d));
    }

    [Fact]
    public void Arity_IsOneBottomOneTop()
    {
        var layer = Create(Param(0));
        var ex = Assert.Throws<CremaException>(() => layer.SetUp([Input(), Input()], [new Blob()]));
        Assert.Contains("relu", ex.Message, StringComparison.Ordinal);
    }

    // STYLE.md: Caffe's Σy²/2 objective cannot see a backward that forgets the negative slope (the missing term is slope²·x),
    // the random projection can.
    [Fact]
    public void GradientCheck_CatchesBackwardThatDropsTheSlope()
    {
        var param = new LayerParameter { Name = "bad_relu", Type = "BadLeakyReLU" };
        var randomProjection = new GradientChecker(1e-2f, 1e-3f, 1701, 0, 0.01f);
        var ex = Assert.Throws<GradientCheckException>(() =>
            randomProjection.CheckGradient(new SlopeDroppingReLU(param), [Input()], [new Blob()]));
        Assert.NotEmpty(ex.Mismatches);

        var sumOfSquares = new GradientChecker(1e-2f, 1e-3f, 1701, 0, 0.01f) { Objective = GradientObjective.SumOfSquares };
        sumOfSquares.CheckGradient(new SlopeDroppingReLU(param), [Input()], [new Blob()]);
    }

    // Leaky ReLU (slope 0.01) whose backward wrongly passes 0 for x ≤ 0.
    private sealed class SlopeDroppingReLU(LayerParameter param) : NeuronLayer(param)
    {
        protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
        {
            for (int i = 0; i < x.Length; i++)
            {
                y[i] = x[i] > 0 ? x[i] : 0.01f * x[i];
            }
        }

        protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
        {
            for (int i = 0; i < x.Length; i++)
            {
                dx[i] = x[i] > 0 ? dy[i] : 0;
            }
        }
    }
}
