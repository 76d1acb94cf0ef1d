using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Nets;

public class NetTests
{
    private const string TwoHeads = """
        name: "twoheads"
        layer { name: "data" type: "Input" top: "x" top: "t" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }
        layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "h1" inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "ip2" type: "InnerProduct" bottom: "x" top: "h2" inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "relu" type: "ReLU" bottom: "h2" top: "h2" relu_param { negative_slope: 0.1 } }
        layer { name: "loss1" type: "EuclideanLoss" bottom: "h1" bottom: "t" top: "l1" }
        layer { name: "loss2" type: "EuclideanLoss" bottom: "h2" bottom: "t" top: "l2" loss_weight: 0.5 }
        force_backward: true
        """;

    private static Net BuildTwoHeads()
    {
        Rng.Seed(1701);
        var net = NetBuilder.Build(TwoHeads);
        TestBlobs.Gaussian(1, 1, 2, 3).Data.CopyTo(net.Blob("x").Data);
        TestBlobs.Gaussian(2, 1, 2, 2).Data.CopyTo(net.Blob("t").Data);
        return net;
    }

    [Fact]
    public void OneTopFeedingSeveralBottoms_GetsSplitLayers()
    {
        using var net = BuildTwoHeads();
        Assert.Contains("x_data_0_split", net.LayerNames);
        Assert.Contains("t_data_1_split", net.LayerNames);
        Assert.Equal("Split", net.Layer("x_data_0_split").Type);
        Assert.True(net.HasBlob("x_data_0_split_0") && net.HasBlob("x_data_0_split_1"));
        Assert.Equal(["l1", "l2"], net.OutputBlobs.Select(b => b.Name));
    }

    [Fact]
    public void InPlaceLayer_WritesItsBottomBlob()
    {
        using var net = BuildTwoHeads();
        net.Forward();
        var relu = net.LayerIndex("relu");
        Assert.Same(net.BottomsOf(relu)[0], net.TopsOf(relu)[0]);
        Assert.DoesNotContain(net.Blob("h2").Data.ToArray(), v => v < 0 && v > -1e-9f);
    }

    [Fact]
    public void Forward_ReturnsWeightedLossSum()
    {
        using var net = BuildTwoHeads();
        float loss = net.Forward();
        float expected = net.Blob("l1").Data[0] + 0.5f * net.Blob("l2").Data[0];
        Assert.Equal(expected, loss, 5);
        Assert.Equal(0.5f, net.BlobLossWeight(net.Blob("l2")));
    }

    [Fact]
    public void Backward_MatchesNumericGradientOfTheWholeNet()
    {
        using var net = BuildTwoHeads();
        net.ForwardBackward();
        // Inputs and every learnable parameter, including through the split (gradients must be summed).
        var checks = new List<(Blob Blob, float[] Grad)> { (net.Blob("x"), net.Blob("x").Diff.ToArray()) };
        checks.AddRange(net.LearnableParams.Select(p => (p, p.Diff.ToArray())));
        const float h = 1e-2f;
        foreach (var (blob, grad) in checks)
        {
            for (int i = 0; i < blob.Count; i++)
            {
                float x = blob.Data[i];
                blob.Data[i] = x + h;
                double plus = net.Forward();
                blob.Data[i] = x - h;
                double minus = net.Forward();
                blob.Data[i] = x;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) <= 2e-3 * Math.Max(1, Math.Abs(numeric)), $"{blob.Name}[{i}]: analytic {grad[i]} vs numeric {numeric}");
            }
        }
    }

    [Fact]
    public void BackwardAnalysis_FollowsCaffe()
    {
        const string proto = """
            layer { name: "data" type: "Input" top: "x" top: "label" input_param { shape { dim: 4 dim: 3 } shape { dim: 4 } } }
            layer { name: "frozen" type: "InnerProduct" bottom: "x" top: "f" param { lr_mult: 0 } param { lr_mult: 0 } inner_product_param { num_output: 3 } }
            layer { name: "ip" type: "InnerProduct" bottom: "f" top: "score" inner_product_param { num_output: 3 } }
            layer { name: "acc" type: "Accuracy" bottom: "score" bottom: "label" top: "accuracy" }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "score" bottom: "label" top: "loss" }
            """;
        using var net = NetBuilder.Build(proto);
        Assert.False(net.LayerNeedsBackward(net.LayerIndex("data")));
        Assert.False(net.LayerNeedsBackward(net.LayerIndex("frozen")));
        Assert.True(net.LayerNeedsBackward(net.LayerIndex("ip")));
        Assert.False(net.BottomNeedsBackward(net.LayerIndex("ip"))[0]);
        Assert.False(net.LayerNeedsBackward(net.LayerIndex("acc")));
        int loss = net.LayerIndex("loss");
        Assert.True(net.BottomNeedsBackward(loss)[0]);
        Assert.False(net.BottomNeedsBackward(loss)[1]);
    }

    [Fact]
    public void PropagateDownFalse_StopsTheGradient()
    {
        const string proto = """
            layer { name: "data" type: "Input" top: "x" top: "t" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "h" inner_product_param { num_output: 3 } }
            layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "y" propagate_down: false inner_product_param { num_output: 3 } }
            layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t" top: "loss" }
            """;
        using var net = NetBuilder.Build(proto);
        Assert.False(net.BottomNeedsBackward(net.LayerIndex("ip2"))[0]);
        Assert.False(net.LayerNeedsBackward(net.LayerIndex("ip1")));
    }

    [Theory]
    [InlineData(Phase.Train, 0, new string[0], new[] { "data", "ip", "train_only", "always" })]
    [InlineData(Phase.Test, 0, new string[0], new[] { "data", "ip", "test_only", "always" })]
    [InlineData(Phase.Test, 2, new[] { "deploy" }, new[] { "data", "ip", "test_only", "deploy_level2", "always" })]
    public void IncludeExcludeRules_SelectLayersByPhaseLevelAndStage(Phase phase, int level, string[] stages, string[] expected)
    {
        const string proto = """
            layer { name: "data" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 } }
            layer { name: "train_only" type: "ReLU" bottom: "y" top: "a" include { phase: TRAIN } }
            layer { name: "test_only" type: "ReLU" bottom: "y" top: "b" include { phase: TEST } }
            layer { name: "deploy_level2" type: "ReLU" bottom: "y" top: "c" include { stage: "deploy" min_level: 2 } }
            layer { name: "always" type: "ReLU" bottom: "y" top: "d" exclude { not_stage: "deploy" phase: TRAIN stage: "never" } }
            """;
        using var net = NetBuilder.Build(proto, phase, level, stages);
        Assert.Equal(expected, net.LayerNames.Where(n => !n.Contains("split", StringComparison.Ordinal)));
    }

    [Fact]
    public void NamedParams_AreSharedAndUpdatedOnce()
    {
        const string proto = """
            layer { name: "data" type: "Input" top: "a" top: "b" top: "t" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }
            layer { name: "ipa" type: "InnerProduct" bottom: "a" top: "ya" param { name: "w" } param { name: "bias" } inner_product_param { num_output: 2 weight_filler { type: "gaussian" } } }
            layer { name: "ipb" type: "InnerProduct" bottom: "b" top: "yb" param { name: "w" } param { name: "bias" } inner_product_param { num_output: 2 weight_filler { type: "gaussian" } } }
            layer { name: "sum" type: "EuclideanLoss" bottom: "ya" bottom: "yb" top: "loss" }
            """;
        using var net = NetBuilder.Build(proto);
        Assert.Equal(2, net.LearnableParams.Count);
        var wa = net.Params["ipa"][0];
        var wb = net.Params["ipb"][0];
        float original = wa.Data[0];
        wa.Data[0] = 123;
        Assert.Equal(123, wb.Data[0]);
        wa.Data[0] = original;
        TestBlobs.Gaussian(3, 1, 2, 3).Data.CopyTo(net.Blob("a").Data);
        TestBlobs.Gaussian(4, 1, 2, 3).Data.CopyTo(net.Blob("b").Data);
        net.ClearParamDiffs();
        net.ForwardBackward();
        // dL/dW sums both uses: numeric check on the shared weight.
        float analytic = wa.Diff[1];
        const float h = 1e-2f;
        float w = wa.Data[1];
        wa.Data[1] = w + h;
        double plus = net.Forward();
        wa.Data[1] = w - h;
        double minus = net.Forward();
        wa.Data[1] = w;
        double numeric = (plus - minus) / (2 * h);
        Assert.True(Math.Abs(numeric - analytic) <= 1e-3 * Math.Max(1, Math.Abs(numeric)), $"analytic {analytic} vs numeric {numeric}");
    }

    [Fact]
    public void SharedParamsWithDifferentShapes_FailNamingTheParam()
    {
        const string proto = """
            layer { name: "data" type: "Input" top: "a" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "ipa" type: "InnerProduct" bottom: "a" top: "ya" param { name: "w" } inner_product_param { num_output: 2 } }
            layer { name: "ipb" type: "InnerProduct" bottom: "a" top: "yb" param { name: "w" } inner_product_param { num_output: 4 } }
            """;
        var e = Assert.Throws<CremaException>(() => NetBuilder.Build(proto));
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
        Assert.Contains("ipb", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForwardByLayerNames_RunsOnlyThatRange()
    {
        using var net = BuildTwoHeads();
        net.Blob("h1").Data.Fill(-7);
        net.Forward(end: "ip2");
        Assert.NotEqual(-7, net.Blob("h1").Data[0]);
        net.Blob("l1").Data.Fill(-7);
        net.Forward(start: "data", end: "ip2");
        Assert.Equal(-7, net.Blob("l1").Data[0]);
    }

    [Fact]
    public void SaveAndCopyTrainedLayers_ReproduceOutputs()
    {
        using var net = BuildTwoHeads();
        float loss = net.Forward();
        string path = Path.Combine(Path.GetTempPath(), $"crema-net-{Guid.NewGuid():N}.caffemodel");
        try
        {
            net.Save(path);
            Assert.False(File.Exists(path + ".tmp"));
            Rng.Seed(99);
            using var other = NetBuilder.Build(TwoHeads);
            net.Blob("x").Data.CopyTo(other.Blob("x").Data);
            net.Blob("t").Data.CopyTo(other.Blob("t").Data);
            Assert.NotEqual(loss, other.Forward());
            other.CopyTrainedLayersFrom(path);
            Assert.Equal(loss, other.Forward());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CopyTrainedLayers_WithWrongShape_NamesLayerAndShapes()
    {
        using var net = BuildTwoHeads();
        var trained = net.ToProto();
        trained.Layer.First(l => l.Name == "ip1").Blobs[0] = new Blob(3, 3).ToProto();
        var e = Assert.Throws<CremaException>(() => net.CopyTrainedLayersFrom(trained, "w.caffemodel"));
        Assert.Contains("w.caffemodel", e.Message, StringComparison.Ordinal);
        Assert.Contains("'ip1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("3 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("layer { name: \"a\" type: \"ReLU\" bottom: \"nothing\" top: \"a\" }", "unknown bottom blob 'nothing'")]
    [InlineData("layer { name: \"d\" type: \"Input\" top: \"x\" input_param { shape { dim: 1 } } } layer { name: \"d2\" type: \"Input\" top: \"x\" input_param { shape { dim: 1 } } }", "multiple sources")]
    [InlineData("layer { name: \"a\" type: \"Frobnicate\" top: \"a\" }", "unknown layer type 'Frobnicate'")]
    public void StructuralErrors_NameTheLayerAndBlob(string proto, string expected)
    {
        var e = Assert.Throws<CremaException>(() => NetBuilder.Build(proto));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownType_ListsKnownTypes()
    {
        var e = Assert.Throws<CremaException>(() => NetBuilder.Build("layer { name: \"a\" type: \"Convolutoin\" top: \"a\" }"));
        Assert.Contains("Convolution", e.Message, StringComparison.Ordinal);
        Assert.Contains("InnerProduct", e.Message, StringComparison.Ordinal);
    }
}
