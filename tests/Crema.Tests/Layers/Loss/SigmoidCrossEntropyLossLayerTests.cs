using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Mode = Crema.Proto.LossParameter.Types.NormalizationMode;

namespace Crema.Tests.Layers;

public class SigmoidCrossEntropyLossLayerTests
{
    private static SigmoidCrossEntropyLossLayer Make(LossParameter? loss = null, float? lossWeight = null)
    {
        var p = new LayerParameter { Name = "xent", Type = "SigmoidCrossEntropyLoss", LossParam = loss };
        if (lossWeight is float w)
        {
            p.LossWeight.Add(w);
        }
        return new(p);
    }

    private static (Blob X, Blob T) Inputs(bool binary)
    {
        var x = TestBlobs.Gaussian(1701, 3f, 10, 5, 1, 1);
        var t = binary ? new Blob(10, 5, 1, 1) : TestBlobs.Uniform(1702, 0f, 1f, 10, 5, 1, 1);
        if (binary)
        {
            var random = new Random(1702);
            for (int i = 0; i < t.Count; i++)
            {
                t.Data[i] = random.Next(2);
            }
        }
        return (x, t);
    }

    // Naive: −[t log σ(x) + (1−t) log(1−σ(x))] summed over non-ignored entries.
    private static float Reference(Blob x, Blob t, Mode mode, int? ignore)
    {
        double loss = 0;
        int valid = 0;
        for (int i = 0; i < x.Count; i++)
        {
            if ((int)t.Data[i] == ignore)
            {
                continue;
            }
            double s = 1 / (1 + Math.Exp(-x.Data[i]));
            loss -= t.Data[i] * Math.Log(s) + (1 - t.Data[i]) * Math.Log(1 - s);
            valid++;
        }
        double norm = mode switch { Mode.Full => x.Count, Mode.Valid => valid, Mode.BatchSize => x.Shape[0], _ => 1 };
        return (float)(loss / Math.Max(1, norm));
    }

    [Theory]
    [InlineData(false, null, null)]
    [InlineData(true, Mode.Valid, 1)]
    [InlineData(true, Mode.Full, null)]
    [InlineData(false, Mode.None, null)]
    public void Forward_MatchesReference(bool binary, Mode? mode, int? ignore)
    {
        var (x, t) = Inputs(binary);
        var loss = new LossParameter();
        if (mode is Mode m)
        {
            loss.Normalization = m;
        }
        if (ignore is int ig)
        {
            loss.IgnoreLabel = ig;
        }
        var top = new Blob();
        var layer = Make(loss);
        layer.SetUp([x, t], [top]);
        layer.Forward([x, t], [top]);
        // Without an explicit normalization this layer divides by the batch size.
        float expected = Reference(x, t, mode ?? Mode.BatchSize, ignore);
        Assert.Equal(expected, top.Data[0], Math.Abs(expected) * 1e-5f + 1e-6f);
    }

    [Fact]
    public void Forward_DeprecatedNormalizeTrue_MeansValid()
    {
        var (x, t) = Inputs(true);
        var top = new Blob();
        var layer = Make(new LossParameter { Normalize = true });
        layer.SetUp([x, t], [top]);
        layer.Forward([x, t], [top]);
        Assert.Equal(Reference(x, t, Mode.Valid, null), top.Data[0], 1e-5f);
    }

    [Fact]
    public void Forward_LargeLogits_StayFinite()
    {
        var x = TestBlobs.FromValues([1, 2], 200f, -200f);
        var t = TestBlobs.FromValues([1, 2], 0f, 1f);
        var top = new Blob();
        var layer = Make();
        layer.SetUp([x, t], [top]);
        layer.Forward([x, t], [top]);
        Assert.Equal(400f, top.Data[0], 1e-3f);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, 0)]
    public void Backward_MatchesNumericGradient(bool binary, int? ignore)
    {
        var (x, t) = Inputs(binary);
        var loss = new LossParameter();
        if (ignore is int ig)
        {
            loss.IgnoreLabel = ig;
        }
        new GradientChecker(1e-2f, 1e-2f).CheckGradient(Make(loss, 2f), [x, t], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void SetUp_CountMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(10, 5), new Blob(10, 4)], [new Blob()]));
        Assert.Contains("'xent'", e.Message);
        Assert.Contains("(10, 4)", e.Message);
    }
}
