using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Tests.Proto;

/// <summary>Caffe's own upgrade_proto test vectors (test_upgrade_proto.cpp): input → upgraded must equal expected.</summary>
public class NetUpgraderTests
{
    private static NetParameter Vector(string name) => PrototxtParser.Parse<NetParameter>(
        File.ReadAllText(Path.Combine(ModelFilesTests.TestData, "models/bvlc_caffe/upgrade_proto_vectors", name + ".prototxt")), name);

    private static void AssertEqualNets(NetParameter expected, NetParameter actual) =>
        Assert.Equal(PrototxtPrinter.Print(expected), PrototxtPrinter.Print(actual));

    [Theory]
    [InlineData("PaddingLayerUpgradeTest_TestSimple")]
    [InlineData("PaddingLayerUpgradeTest_TestTwoTops")]
    [InlineData("PaddingLayerUpgradeTest_TestImageNet")]
    public void PaddingLayers_FoldIntoConvAndPool(string test)
    {
        var input = Vector(test + "_input_proto");
        var actual = NetUpgrader.UpgradeV0PaddingLayers(input, test);
        AssertEqualNets(Vector(test + "_expected_output_proto"), actual);
        Assert.Equal(Vector(test + "_expected_output_proto"), actual);
    }

    [Theory]
    [InlineData("NetUpgradeTest_TestSimple")]
    [InlineData("NetUpgradeTest_TestImageNet")]
    public void V0_UpgradesToV1_AndToCurrent(string test)
    {
        var v0 = Vector(test + "_v0_proto");
        Assert.True(NetUpgrader.NeedsUpgrade(v0));
        AssertEqualNets(Vector(test + "_expected_v1_proto"), NetUpgrader.UpgradeV0ToV1(v0, test));
        var current = NetUpgrader.Upgrade(v0, test);
        AssertEqualNets(Vector(test + "_expected_v2_proto"), current);
        Assert.Equal(Vector(test + "_expected_v2_proto"), current);
        Assert.False(NetUpgrader.NeedsUpgrade(current));
        // the input is left untouched
        Assert.Equal(Vector(test + "_v0_proto"), v0);
    }

    [Fact]
    public void V0_AllParams_UpgradeToV1()
    {
        var input = Vector("NetUpgradeTest_TestAllParams_input_proto");
        AssertEqualNets(Vector("NetUpgradeTest_TestAllParams_expected_output_proto"), NetUpgrader.UpgradeV0ToV1(input, "all"));
    }

    [Fact]
    public void V0_AllParams_UpgradeToCurrent_WithInputLayer()
    {
        var net = NetUpgrader.Upgrade(Vector("NetUpgradeTest_TestAllParams_input_proto"), "all");
        Assert.Equal(("input", "Input"), (net.Layer[0].Name, net.Layer[0].Type));
        Assert.Equal([64L, 3, 32, 32], net.Layer[0].InputParam.Shape[0].Dim);
        var window = net.Layer.Single(l => l.Name == "window_data");
        Assert.Equal("WindowData", window.Type);
        Assert.Equal("square", window.WindowDataParam.CropMode);
        Assert.Equal(227u, window.TransformParam.CropSize);
        Assert.Equal("Im2col", net.Layer.Single(l => l.Name == "im2col").Type);
    }

    [Fact]
    public void V1_BlobsLrWeightDecayAndParamNames_BecomeParamSpecs()
    {
        var v1 = PrototxtParser.Parse<NetParameter>("""
            layers {
              name: "ip" type: INNER_PRODUCT bottom: "x" top: "y"
              param: "w" param: "b"
              blob_share_mode: PERMISSIVE
              blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
              inner_product_param { num_output: 10 }
              include { phase: TRAIN }
              loss_weight: 0.5
            }
            layers { name: "loss" type: SOFTMAX_LOSS bottom: "y" bottom: "label" }
            """);
        var net = NetUpgrader.Upgrade(v1, "v1.prototxt");
        var ip = net.Layer[0];
        Assert.Equal("InnerProduct", ip.Type);
        Assert.Equal(["w", "b"], ip.Param.Select(p => p.Name));
        Assert.Equal([1f, 2f], ip.Param.Select(p => p.LrMult));
        Assert.Equal([1f, 0f], ip.Param.Select(p => p.DecayMult));
        Assert.Equal(ParamSpec.Types.DimCheckMode.Permissive, ip.Param[0].ShareMode);
        Assert.False(ip.Param[1].HasShareMode);
        Assert.Equal(10u, ip.InnerProductParam.NumOutput);
        Assert.Equal(Phase.Train, ip.Include[0].Phase);
        Assert.Equal([0.5f], ip.LossWeight);
        Assert.Equal("SoftmaxWithLoss", net.Layer[1].Type);
    }

    [Fact]
    public void V1_DataTransformFields_MoveToTransformParam()
    {
        var v1 = PrototxtParser.Parse<NetParameter>("""
            layers { name: "d" type: DATA top: "data"
              data_param { source: "db" batch_size: 4 scale: 0.5 mean_file: "m.binaryproto" crop_size: 7 mirror: true } }
            layers { name: "i" type: IMAGE_DATA top: "img" image_data_param { source: "list.txt" scale: 2 } }
            """);
        var net = NetUpgrader.Upgrade(v1, "data.prototxt");
        var d = net.Layer[0];
        Assert.Equal(("Data", "db", 4u), (d.Type, d.DataParam.Source, d.DataParam.BatchSize));
        Assert.False(d.DataParam.HasScale || d.DataParam.HasMeanFile || d.DataParam.HasCropSize || d.DataParam.HasMirror);
        Assert.Equal((0.5f, "m.binaryproto", 7u, true), (d.TransformParam.Scale, d.TransformParam.MeanFile, d.TransformParam.CropSize, d.TransformParam.Mirror));
        Assert.Equal(2f, net.Layer[1].TransformParam.Scale);
        Assert.False(net.Layer[1].ImageDataParam.HasScale);
    }

    [Fact]
    public void InputShape_BecomesInputLayer()
    {
        var net = PrototxtParser.Parse<NetParameter>("""
            input: "a" input_shape { dim: 1 dim: 2 } input: "b" input_shape { dim: 3 }
            layer { name: "r" type: "ReLU" bottom: "a" top: "a" }
            """);
        var upgraded = NetUpgrader.Upgrade(net, "in.prototxt");
        Assert.Equal(["input", "r"], upgraded.Layer.Select(l => l.Name));
        Assert.Equal(["a", "b"], upgraded.Layer[0].Top);
        Assert.Equal([3L], upgraded.Layer[0].InputParam.Shape[1].Dim);
        Assert.Empty(upgraded.Input);
        Assert.Empty(upgraded.InputShape);
    }

    [Fact]
    public void InputWithoutShape_IsDropped()
    {
        var net = PrototxtParser.Parse<NetParameter>("input: 'data' layer { name: 'r' type: 'ReLU' }");
        var upgraded = NetUpgrader.Upgrade(net, "in.prototxt");
        Assert.Equal(["r"], upgraded.Layer.Select(l => l.Name));
        Assert.Empty(upgraded.Input);
    }

    [Fact]
    public void BatchNormWithThreeParams_GetsZeroLearningRates()
    {
        var net = PrototxtParser.Parse<NetParameter>("""
            layer { name: "bn" type: "BatchNorm" param { lr_mult: 1 } param { lr_mult: 1 } param { lr_mult: 1 name: "s" } }
            layer { name: "sc" type: "Scale" param { lr_mult: 1 } param { lr_mult: 1 } param { lr_mult: 1 } }
            """);
        Assert.True(NetUpgrader.NeedsUpgrade(net));
        var upgraded = NetUpgrader.Upgrade(net, "bn.prototxt");
        Assert.All(upgraded.Layer[0].Param, p => Assert.Equal((0f, 0f), (p.LrMult, p.DecayMult)));
        Assert.Equal("s", upgraded.Layer[0].Param[2].Name);
        Assert.All(upgraded.Layer[1].Param, p => Assert.Equal(1f, p.LrMult));
        Assert.False(NetUpgrader.NeedsUpgrade(upgraded));
    }

    [Fact]
    public void MixedLayersAndLayer_Throws_NamingFileAndLayers()
    {
        var net = PrototxtParser.Parse<NetParameter>("layers { name: 'old' type: RELU } layer { name: 'new' type: 'ReLU' }");
        var e = Assert.Throws<CremaException>(() => NetUpgrader.Upgrade(net, "mixed.prototxt"));
        Assert.Contains("mixed.prototxt", e.Message, StringComparison.Ordinal);
        Assert.Contains("'old'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'new'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V0UnknownType_Throws()
    {
        var net = PrototxtParser.Parse<NetParameter>("layers { layer { name: 'x' type: 'warp_drive' } }");
        var e = Assert.Throws<CremaException>(() => NetUpgrader.Upgrade(net, "v0.prototxt"));
        Assert.Contains("v0.prototxt", e.Message, StringComparison.Ordinal);
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
        Assert.Contains("warp_drive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V0ParamOnWrongLayerType_Throws()
    {
        var net = PrototxtParser.Parse<NetParameter>("layers { layer { name: 'r' type: 'relu' num_output: 3 } }");
        var e = Assert.Throws<CremaException>(() => NetUpgrader.Upgrade(net, "v0.prototxt"));
        Assert.Contains("'r'", e.Message, StringComparison.Ordinal);
        Assert.Contains("num_output", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V0PaddingIntoNonConv_Throws()
    {
        var net = PrototxtParser.Parse<NetParameter>("""
            input: 'data'
            layers { layer { name: 'pad' type: 'padding' pad: 1 } bottom: 'data' top: 'p' }
            layers { layer { name: 'relu' type: 'relu' } bottom: 'p' top: 'r' }
            """);
        var e = Assert.Throws<CremaException>(() => NetUpgrader.Upgrade(net, "pad.prototxt"));
        Assert.Contains("'pad'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'relu'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SGD", "SGD")]
    [InlineData("NESTEROV", "Nesterov")]
    [InlineData("ADAGRAD", "AdaGrad")]
    [InlineData("RMSPROP", "RMSProp")]
    [InlineData("ADADELTA", "AdaDelta")]
    [InlineData("ADAM", "Adam")]
    public void SolverType_MovesToTypeString(string oldName, string newName)
    {
        var solver = PrototxtParser.Parse<SolverParameter>($"base_lr: 0.1 solver_type: {oldName}");
        Assert.True(NetUpgrader.NeedsSolverUpgrade(solver));
        NetUpgrader.UpgradeSolver(solver, "solver.prototxt");
        Assert.Equal(newName, solver.Type);
        Assert.False(solver.HasSolverType);
        Assert.False(NetUpgrader.NeedsSolverUpgrade(solver));
    }

    [Fact]
    public void SolverWithBothTypes_Throws()
    {
        var solver = PrototxtParser.Parse<SolverParameter>("solver_type: ADAM type: 'SGD'");
        var e = Assert.Throws<CremaException>(() => NetUpgrader.UpgradeSolver(solver, "solver.prototxt"));
        Assert.Contains("solver.prototxt", e.Message, StringComparison.Ordinal);
        Assert.Contains("solver_type", e.Message, StringComparison.Ordinal);
    }
}
