using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Mode = Crema.Proto.LossParameter.Types.NormalizationMode;

namespace Crema.Tests.Layers;

public class SoftmaxWithLossLayerTests
{
    // Caffe's fixture: data 10x5x2x3 with std 10, labels 10x1x2x3 uniform in 0..4.
    private static Blob Data() => TestBlobs.Gaussian(1701, 10f, 10, 5, 2, 3);

    private static Blob Labels(params int[] shape)
    {
        var blob = new Blob(shape.Length == 0 ? [10, 1, 2, 3] : shape);
        var random = new Random(1702);
        for (int i = 0; i < blob.Count; i++)
        {
            blob.Data[i] = random.Next(5);
        }
        return blob;
    }

    private static SoftmaxWithLossLayer Make(LossParameter? loss = null, float? lossWeight = null, int axis = 1)
    {
        var p = new LayerParameter { Name = "loss", Type = "SoftmaxWithLoss", LossParam = loss, SoftmaxParam = new SoftmaxParameter { Axis = axis } };
        if (lossWeight is float w)
        {
            p.LossWeight.Add(w);
        }
        return new SoftmaxWithLossLayer(p);
    }

    // Naive loss: −Σ log softmax(x)[label] over counted positions, divided as the mode says.
    private static float Reference(Blob data, Blob labels, Mode mode, int? ignore)
    {
        int n = data.ShapeAt(0), c = data.ShapeAt(1), inner = data.CountFrom(2);
        double loss = 0;
        int valid = 0;
        for (int o = 0; o < n; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int label = (int)labels.Data[o * inner + i];
                if (label == ignore)
                {
                    continue;
                }
                double max = double.NegativeInfinity, sum = 0;
                for (int k = 0; k < c; k++)
                {
                    max = Math.Max(max, data.Data[(o * c + k) * inner + i]);
                }
                for (int k = 0; k < c; k++)
                {
                    sum += Math.Exp(data.Data[(o * c + k) * inner + i] - max);
                }
                loss -= data.Data[(o * c + label) * inner + i] - max - Math.Log(sum);
                valid++;
            }
        }
        double norm = mode switch { Mode.Full => n * inner, Mode.Valid => valid, Mode.BatchSize => n, _ => 1 };
        return (float)(loss / Math.Max(1, norm));
    }

    [Theory]
    [InlineData(Mode.Valid, null)]
    [InlineData(Mode.Valid, 2)]
    [InlineData(Mode.Full, 2)]
    [InlineData(Mode.BatchSize, null)]
    [InlineData(Mode.None, 3)]
    public void Forward_MatchesReference(Mode mode, int? ignore)
    {
        var data = Data();
        var labels = Labels();
        var lossParam = new LossParameter { Normalization = mode };
        if (ignore is int ig)
        {
            lossParam.IgnoreLabel = ig;
        }
        var top = new Blob();
        var layer = Make(lossParam);
        layer.SetUp([data, labels], [top]);
        float returned = layer.Forward([data, labels], [top]);
        float expected = Reference(data, labels, mode, ignore);
        Assert.Empty(top.Shape);
        Assert.Equal(expected, top.Data[0], expected * 1e-5f + 1e-5f);
        Assert.Equal(top.Data[0], returned);
    }

    [Theory]
    [InlineData(true, Mode.Valid)]
    [InlineData(false, Mode.BatchSize)]
    public void Forward_DeprecatedNormalize_MapsToMode(bool normalize, Mode expectedMode)
    {
        var data = Data();
        var labels = Labels();
        var top = new Blob();
        var layer = Make(new LossParameter { Normalize = normalize, IgnoreLabel = 1 });
        layer.SetUp([data, labels], [top]);
        layer.Forward([data, labels], [top]);
        float expected = Reference(data, labels, expectedMode, 1);
        Assert.Equal(expected, top.Data[0], expected * 1e-5f);
    }

    [Fact]
    public void Forward_IgnoreEachLabelOnce_SumsToFourTimesFullLoss()
    {
        // Caffe's TestForwardIgnoreLabel: with normalize=false, dropping each class once counts every position 4 times.
        var data = Data();
        var labels = Labels();
        var top = new Blob();
        var full = Make(new LossParameter { Normalize = false });
        full.SetUp([data, labels], [top]);
        full.Forward([data, labels], [top]);
        float fullLoss = top.Data[0];
        float sum = 0;
        for (int label = 0; label < 5; label++)
        {
            var layer = Make(new LossParameter { Normalize = false, IgnoreLabel = label });
            layer.SetUp([data, labels], [top]);
            layer.Forward([data, labels], [top]);
            sum += top.Data[0];
        }
        Assert.Equal(4 * fullLoss, sum, 4 * fullLoss * 1e-4f);
    }

    [Fact]
    public void Forward_AllIgnored_GivesZeroNotNaN()
    {
        var data = Data();
        var labels = Labels();
        labels.Data.Fill(2);
        var top = new Blob();
        var layer = Make(new LossParameter { IgnoreLabel = 2 });
        layer.SetUp([data, labels], [top]);
        layer.Forward([data, labels], [top]);
        Assert.Equal(0f, top.Data[0]);
    }

    [Fact]
    public void Forward_SecondTop_HoldsProbabilities_AndSpatialLabelsMayDropChannelAxis()
    {
        var data = Data();
        var labels = Labels(10, 2, 3);
        var loss = new Blob();
        var prob = new Blob();
        var layer = Make();
        layer.SetUp([data, labels], [loss, prob]);
        layer.Forward([data, labels], [loss, prob]);
        Assert.Equal(data.Shape, prob.Shape);
        Assert.Equal(Reference(data, labels, Mode.Valid, null), loss.Data[0], 1e-4f);
        Assert.Equal(0f, layer.LossWeight(1));
        Assert.Equal(1f, layer.LossWeight(0));
        // Each (n, h, w) column of probabilities sums to 1.
        for (int n = 0; n < 10; n++)
        {
            for (int i = 0; i < 6; i++)
            {
                float s = 0;
                for (int c = 0; c < 5; c++)
                {
                    s += prob.Data[(n * 5 + c) * 6 + i];
                }
                Assert.Equal(1f, s, 1e-5f);
            }
        }
    }

    [Fact]
    public void Forward_LastAxis_MatchesChannelFirstLayout()
    {
        // Scores (N, T, C) with axis -1 equal the same scores laid out (N, C, T) with axis 1.
        var nct = TestBlobs.Gaussian(1701, 2f, 3, 4, 5);
        var ntc = new Blob(3, 5, 4);
        for (int n = 0; n < 3; n++)
        {
            for (int c = 0; c < 4; c++)
            {
                for (int t = 0; t < 5; t++)
                {
                    ntc.Data[(n * 5 + t) * 4 + c] = nct.Data[(n * 4 + c) * 5 + t];
                }
            }
        }
        var labels = Labels(3, 5);
        for (int i = 0; i < labels.Count; i++)
        {
            labels.Data[i] %= 4;
        }
        Blob top1 = new(), top2 = new();
        var channelFirst = Make();
        channelFirst.SetUp([nct, labels], [top1]);
        channelFirst.Forward([nct, labels], [top1]);
        var lastAxis = Make(axis: -1);
        lastAxis.SetUp([ntc, labels], [top2]);
        lastAxis.Forward([ntc, labels], [top2]);
        Assert.Equal(Reference(nct, labels, Mode.Valid, null), top1.Data[0], 1e-5f);
        Assert.Equal(top1.Data[0], top2.Data[0], 1e-5f);
    }

    public static TheoryData<LossParameter?, float?> GradientCases => new()
    {
        { null, null },
        { null, 3f },
        { new LossParameter { IgnoreLabel = 0 }, null },
        { new LossParameter { Normalize = false }, null },
        { new LossParameter { Normalization = Mode.Full, IgnoreLabel = 4 }, 2f },
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Backward_MatchesNumericGradient(LossParameter? loss, float? lossWeight)
    {
        // Smaller scores than the forward fixture keep the softmax away from saturation so differences are meaningful.
        var data = TestBlobs.Gaussian(1701, 2f, 4, 5, 2, 3);
        var labels = Labels(4, 1, 2, 3);
        new GradientChecker(1e-2f, 1e-2f).CheckGradient(Make(loss, lossWeight), [data, labels], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void Backward_ToLabels_IsRefused()
    {
        var data = Data();
        var labels = Labels();
        var top = new Blob();
        var layer = Make();
        layer.SetUp([data, labels], [top]);
        layer.Forward([data, labels], [top]);
        Assert.False(layer.AllowForceBackward(1));
        var e = Assert.Throws<CremaException>(() => layer.Backward([top], [true, true], [data, labels]));
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("label", e.Message);
    }

    [Fact]
    public void Forward_LabelOutOfRange_NamesLayerAndLabel()
    {
        var data = Data();
        var labels = Labels();
        labels.Data[7] = 5;
        var top = new Blob();
        var layer = Make();
        layer.SetUp([data, labels], [top]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([data, labels], [top]));
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("label 5", e.Message);
    }

    [Fact]
    public void SetUp_LabelCountMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([Data(), new Blob(10, 2)], [new Blob()]));
        Assert.Contains("'loss'", e.Message);
        Assert.Contains("(10, 2)", e.Message);
        Assert.Contains("(10, 5, 2, 3)", e.Message);
    }

    [Fact]
    public void SetUp_ThreeTops_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([Data(), Labels()], [new Blob(), new Blob(), new Blob()]));
        Assert.Contains("'loss'", e.Message);
    }
}
