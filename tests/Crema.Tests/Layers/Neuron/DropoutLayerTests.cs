using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

// Dropout draws from the process-wide Rng, which other test classes re-seed: run these alone.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DropoutSerialCollection
{
    public const string Name = "Dropout (serial, uses Rng)";
}

[Collection(DropoutSerialCollection.Name)]
public class DropoutLayerTests
{
    private static LayerParameter Param(float? ratio, Phase phase = Phase.Train)
    {
        var p = new LayerParameter { Name = "drop", Type = "Dropout", Phase = phase };
        if (ratio is float r)
        {
            p.DropoutParam = new DropoutParameter { DropoutRatio = r };
        }
        return p;
    }

    // Caffe's TestDropoutHalf/ThreeQuarters: kept units are x/(1 − p); the dropped fraction is within 1.96 standard errors.
    [Theory]
    [InlineData(null)]
    [InlineData(0.5f)]
    [InlineData(0.75f)]
    [InlineData(0.1f)]
    public void Forward_Train_DropsFractionAndScalesKept(float? ratio)
    {
        float p = ratio ?? 0.5f;
        var bottom = TestBlobs.Uniform(1701, 0.5f, 1.5f, 10, 10, 10, 10); // no zeros, so zeros in y mean "dropped"
        var top = Forward(Param(ratio), bottom);
        int dropped = 0;
        for (int i = 0; i < bottom.Count; i++)
        {
            if (top.Data[i] == 0)
            {
                dropped++;
            }
            else
            {
                Assert.Equal(bottom.Data[i] / (1 - p), top.Data[i], 1e-5f);
            }
        }
        double n = bottom.Count;
        double stdError = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange(dropped / n, p - 1.96 * stdError, p + 1.96 * stdError);
    }

    [Fact]
    public void Forward_Test_IsIdentity()
    {
        var bottom = Input();
        var top = Forward(Param(0.5f, Phase.Test), bottom);
        Assert.Equal(bottom.Data.ToArray(), top.Data.ToArray());
    }

    [Fact]
    public void Backward_Test_IsIdentity()
    {
        var bottom = Input();
        var top = new Blob();
        var layer = Create(Param(0.5f, Phase.Test));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        TestBlobs.Uniform(3, -1, 1, Shape).Data.CopyTo(top.Diff);
        layer.Backward([top], [true], [bottom]);
        Assert.Equal(top.Diff.ToArray(), bottom.Diff.ToArray());
    }

    [Fact]
    public void Forward_IsRepeatableWithTheSameSeed()
    {
        var a = Forward(Param(0.5f), Input());
        var b = Forward(Param(0.5f), Input());
        Assert.Equal(a.Data.ToArray(), b.Data.ToArray());
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.75f)]
    public void Backward_MatchesNumericGradient(float ratio) => CheckElementwise(Param(ratio), Input());

    [Theory]
    [InlineData(Phase.Train)]
    [InlineData(Phase.Test)]
    public void InPlace_MatchesOutOfPlace(Phase phase) => AssertInPlaceMatchesOutOfPlace(Param(0.5f, phase), Input());

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.25f)]
    public void SetUp_RejectsBadRatio(float ratio)
    {
        var ex = Assert.Throws<CremaException>(() => Forward(Param(ratio), Input()));
        Assert.Contains("drop", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"dropout_ratio {ratio}", ex.Message, StringComparison.Ordinal);
    }
}
