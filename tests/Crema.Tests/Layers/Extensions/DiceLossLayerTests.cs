using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Activation = Crema.Proto.DiceLossParameter.Types.Activation;

namespace Crema.Tests.Layers;

public class DiceLossLayerTests
{
    internal enum Labels { IntegerNchw, IntegerNhw, Mask }

    internal sealed record DiceCase(Activation Activation, Labels Labels, int Classes, float Smooth = 1f, int? Ignore = null)
    {
        public int[] Shape => [2, Classes, 3, 4];

        public LayerParameter Param()
        {
            var p = new LayerParameter
            {
                Name = "dice", Type = "DiceLoss",
                DiceLossParam = new DiceLossParameter { Activation = Activation, Smooth = Smooth },
            };
            if (Ignore is int ignore)
            {
                p.LossParam = new LossParameter { IgnoreLabel = ignore };
            }
            return p;
        }

        public Blob[] Bottoms()
        {
            var scores = Activation == Activation.None ? TestBlobs.Uniform(1701, 0f, 1f, Shape) : TestBlobs.Gaussian(1701, 2f, Shape);
            var random = new Random(1702);
            Blob label = Labels switch
            {
                Labels.IntegerNchw => new Blob(2, 1, 3, 4),
                Labels.IntegerNhw => new Blob(2, 3, 4),
                _ => new Blob(Shape),
            };
            var data = label.Data;
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = Labels == Labels.Mask ? random.Next(2) : random.Next(Classes);
                if (Ignore is int ignore && i % 5 == 2)
                {
                    data[i] = ignore;
                }
            }
            return [scores, label];
        }
    }

    internal static readonly Dictionary<string, DiceCase> Cases = new()
    {
        ["sigmoid int nchw"] = new(Activation.Sigmoid, Labels.IntegerNchw, 3),
        ["softmax int nhw"] = new(Activation.Softmax, Labels.IntegerNhw, 3),
        ["none mask"] = new(Activation.None, Labels.Mask, 3),
        ["sigmoid binary mask"] = new(Activation.Sigmoid, Labels.Mask, 1),
        ["softmax int ignore 255 smooth 0.5"] = new(Activation.Softmax, Labels.IntegerNchw, 4, 0.5f, 255),
        ["none int ignore -1"] = new(Activation.None, Labels.IntegerNhw, 3, 1f, -1),
        ["sigmoid binary mask ignore 255"] = new(Activation.Sigmoid, Labels.Mask, 1, 1f, 255),
        ["softmax mask smooth 0"] = new(Activation.Softmax, Labels.Mask, 2, 0f),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    // Naive reference: activation per element, then per-class sums over batch and space.
    private static double Reference(DiceCase c, Blob scores, Blob label)
    {
        int num = scores.ShapeAt(0), classes = scores.ShapeAt(1), inner = scores.CountFrom(2);
        var intersection = new double[classes];
        var sumP = new double[classes];
        var sumT = new double[classes];
        for (int n = 0; n < num; n++)
        {
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, z = 0;
                for (int k = 0; k < classes; k++)
                {
                    max = Math.Max(max, scores.Data[(n * classes + k) * inner + i]);
                }
                for (int k = 0; k < classes; k++)
                {
                    z += Math.Exp(scores.Data[(n * classes + k) * inner + i] - max);
                }
                for (int k = 0; k < classes; k++)
                {
                    double x = scores.Data[(n * classes + k) * inner + i];
                    double p = c.Activation switch
                    {
                        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
                        Activation.Softmax => Math.Exp(x - max) / z,
                        _ => x,
                    };
                    double t;
                    if (c.Labels == Labels.Mask)
                    {
                        t = label.Data[(n * classes + k) * inner + i];
                    }
                    else
                    {
                        t = label.Data[n * inner + i];
                        if (t != c.Ignore)
                        {
                            t = t == k ? 1 : 0;
                        }
                    }
                    if (t == c.Ignore)
                    {
                        continue;
                    }
                    intersection[k] += p * t;
                    sumP[k] += p;
                    sumT[k] += t;
                }
            }
        }
        double mean = 0;
        for (int k = 0; k < classes; k++)
        {
            mean += (2 * intersection[k] + c.Smooth) / (sumP[k] + sumT[k] + c.Smooth);
        }
        return 1 - mean / classes;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_MatchesReference(string name)
    {
        var c = Cases[name];
        var bottom = c.Bottoms();
        var top = new[] { new Blob() };
        var layer = new DiceLossLayer(c.Param());
        layer.SetUp(bottom, top);
        float loss = layer.Forward(bottom, top);
        Assert.Empty(top[0].Shape);
        double expected = Reference(c, bottom[0], bottom[1]);
        Assert.InRange(expected, 0.05, 1.0);
        Assert.Equal(expected, top[0].Data[0], 5);
        Assert.Equal(top[0].Data[0], loss);
    }

    [Fact]
    public void Forward_HandComputed()
    {
        // p = [0.5, 1, 0, 0.25], t = [1, 1, 0, 0], smooth 1: D = (2·1.5 + 1) / (1.75 + 2 + 1) = 4 / 4.75, loss = 1 − D.
        var bottom = new[] { TestBlobs.FromValues([1, 1, 2, 2], 0.5f, 1f, 0f, 0.25f), TestBlobs.FromValues([1, 1, 2, 2], 1, 1, 0, 0) };
        var top = new[] { new Blob() };
        var layer = new DiceLossLayer(new LayerParameter { Name = "dice", Type = "DiceLoss", DiceLossParam = new DiceLossParameter { Activation = Activation.None } });
        layer.SetUp(bottom, top);
        Assert.Equal(1 - 4 / 4.75f, layer.Forward(bottom, top), 6);

        // A perfect one-hot prediction gives loss 0 for any smooth.
        var perfect = new[] { TestBlobs.FromValues([1, 2, 1, 2], 1, 0, 0, 1), TestBlobs.FromValues([1, 1, 1, 2], 0, 1) };
        layer.SetUp(perfect, top);
        Assert.Equal(0f, layer.Forward(perfect, top), 6);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Backward_MatchesNumericGradient(string name)
    {
        var c = Cases[name];
        var bottom = c.Bottoms();
        var top = new[] { new Blob() };
        // NOTE: Dice gradients are O(1/(C·Σ)) ≈ 1e-2 here, below the checker's absolute floor of max(1, |g|)·threshold at 1e-3,
        // which let a gradient missing 10% of its D term pass; 1e-5 catches it, and the correct gradient still passes at 1e-6.
        new GradientChecker(1e-2f, 1e-5f).CheckGradient(new DiceLossLayer(c.Param()), bottom, top, checkBottom: 0);
    }

    [Fact]
    public void Backward_ScalesWithLossWeight_AndZeroesIgnoredPixels()
    {
        var c = Cases["softmax int ignore 255 smooth 0.5"];
        float[] Gradient(float weight, out float loss)
        {
            var bottom = c.Bottoms();
            var top = new[] { new Blob() };
            var p = c.Param();
            p.LossWeight.Add(weight);
            var layer = new DiceLossLayer(p);
            layer.SetUp(bottom, top);
            loss = layer.Forward(bottom, top);
            layer.Backward(top, [true, false], bottom);
            return bottom[0].Diff.ToArray();
        }
        var one = Gradient(1f, out float loss1);
        var three = Gradient(3f, out float loss3);
        Assert.Equal(3 * loss1, loss3, 5);
        TestBlobs.AssertClose(one.Select(v => 3 * v).ToArray(), three, 1e-5f);
        // Label index 2 (i % 5 == 2) is ignored: position 2 of image 0 gets no gradient in any channel.
        Assert.All(Enumerable.Range(0, 4), k => Assert.Equal(0f, one[k * 12 + 2]));
        Assert.True(one.Sum(Math.Abs) > 1e-3f);
    }

    [Fact]
    public void Backward_ToLabels_Throws()
    {
        var c = Cases["sigmoid int nchw"];
        var bottom = c.Bottoms();
        var top = new[] { new Blob() };
        var layer = new DiceLossLayer(c.Param());
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        Assert.False(layer.AllowForceBackward(1));
        var ex = Assert.Throws<CremaException>(() => layer.Backward(top, [true, true], bottom));
        Assert.Contains("'dice'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("label", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "label out of range", "label 3 is not a class in [0, 2]" },
        { "fractional label", "label 1.5 is not a class in [0, 2]" },
        { "label shape", "label (2, 1, 3, 3) must be integer classes with 24 values (N, 1, H, W) or a mask shaped like the scores (2, 3, 3, 4)" },
        { "softmax one channel", "activation SOFTMAX over 1 channel is constant 1" },
        { "smooth", "smooth must be finite and >= 0, got -1" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public void BadParameters_Throw(string which, string message)
    {
        var c = Cases["sigmoid int nchw"];
        var bottom = c.Bottoms();
        var param = c.Param();
        param.Name = "dice7";
        switch (which)
        {
            case "label out of range": bottom[1].Data[4] = 3; break;
            case "fractional label": bottom[1].Data[4] = 1.5f; break;
            case "label shape": bottom[1] = new Blob(2, 1, 3, 3); break;
            case "softmax one channel":
                param.DiceLossParam.Activation = Activation.Softmax;
                bottom = [new Blob(2, 1, 3, 4), new Blob(2, 1, 3, 4)];
                break;
            case "smooth": param.DiceLossParam.Smooth = -1; break;
        }
        var layer = new DiceLossLayer(param);
        var ex = Assert.Throws<CremaException>(() =>
        {
            var top = new[] { new Blob() };
            layer.SetUp(bottom, top);
            layer.Forward(bottom, top);
        });
        Assert.Contains("dice7", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegistered() => Assert.Equal(typeof(DiceLossLayer), LayerRegistry.TypeOf("DiceLoss"));
}
