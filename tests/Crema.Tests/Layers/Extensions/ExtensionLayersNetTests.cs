using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

public class ExtensionLayersNetTests
{
    private const string CoordDiceNet = """
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 5 } shape { dim: 2 dim: 1 dim: 4 dim: 5 } } }
        layer { name: "coords" type: "AddCoords" bottom: "data" top: "coords" add_coords_param { with_r: true } }
        layer {
          name: "score" type: "LocallyConnected" bottom: "coords" top: "score"
          convolution_param { num_output: 3 kernel_h: 3 kernel_w: 1 pad_h: 1 weight_filler { type: "xavier" } }
        }
        layer { name: "loss" type: "DiceLoss" bottom: "score" bottom: "label" top: "loss" dice_loss_param { activation: SOFTMAX smooth: 0.5 } }
        """;

    [Fact]
    public void PrototxtWithAllThree_ParsesTrainsAndLowersTheLoss()
    {
        Rng.Seed(1701);
        using var net = NetBuilder.Build(CoordDiceNet);
        Assert.Equal([2, 6, 4, 5], net.Blob("coords").Shape);
        Assert.Equal([2, 3, 4, 5], net.Blob("score").Shape);
        Assert.Equal(0.5f, net.Layer("loss").Param.DiceLossParam.Smooth);
        TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5).Data.CopyTo(net.Blob("data").Data);
        var label = net.Blob("label").Data;
        for (int i = 0; i < label.Length; i++)
        {
            label[i] = i % 3;
        }
        float first = net.ForwardBackward();
        for (int step = 0; step < 20; step++)
        {
            foreach (var p in net.LearnableParams)
            {
                p.ScaleDiff(20f); // plain gradient descent, lr 20: Dice gradients are O(1/(C·Σ)), small
                p.Update();
            }
            net.ClearParamDiffs();
            net.ForwardBackward();
        }
        Assert.True(net.Forward() < first - 0.05f, $"loss {first} did not drop");
    }

    public static TheoryData<string> Types => new("LocallyConnected", "AddCoords", "DiceLoss");

    [Theory]
    [MemberData(nameof(Types))]
    public void ForwardBackward_AllocatesNothing(string type)
    {
        var param = new LayerParameter
        {
            Name = "x", Type = type,
            ConvolutionParam = new ConvolutionParameter { NumOutput = 2, KernelSize = { 3 }, Pad = { 1 }, WeightFiller = new FillerParameter { Type = "xavier" } },
            AddCoordsParam = new AddCoordsParameter { WithR = true },
            DiceLossParam = new DiceLossParameter { Activation = DiceLossParameter.Types.Activation.Softmax },
        };
        var layer = LayerRegistry.Create(param);
        Blob[] bottoms = type == "DiceLoss"
            ? [TestBlobs.Gaussian(1701, 1f, 2, 3, 8, 8), new Blob(2, 1, 8, 8)]
            : [TestBlobs.Gaussian(1701, 1f, 2, 3, 8, 8)];
        Blob[] tops = [new Blob()];
        bool[] propagate = type == "DiceLoss" ? [true, false] : [true];
        layer.SetUp(bottoms, tops);
        for (int i = 0; i < 2; i++)
        {
            layer.Forward(bottoms, tops);
            layer.Backward(tops, propagate, bottoms);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        layer.Forward(bottoms, tops);
        layer.Backward(tops, propagate, bottoms);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
