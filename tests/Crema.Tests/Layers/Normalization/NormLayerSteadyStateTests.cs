using Crema.Layers;
using Crema.Proto;
using NormRegion = Crema.Proto.LRNParameter.Types.NormRegion;

namespace Crema.Tests.Layers;

// Registration, and steady-state Forward + Backward allocating nothing (STYLE.md), out of place and in place.
public class NormLayerSteadyStateTests
{
    [Theory]
    [InlineData("LRN", typeof(LRNLayer))]
    [InlineData("MVN", typeof(MVNLayer))]
    [InlineData("BatchNorm", typeof(BatchNormLayer))]
    [InlineData("Scale", typeof(ScaleLayer))]
    [InlineData("Bias", typeof(BiasLayer))]
    [InlineData("Embed", typeof(EmbedLayer))]
    public void Layer_IsRegistered(string type, Type layerClass) => Assert.Equal(layerClass, LayerRegistry.TypeOf(type));

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in new[] { "LRN-across", "LRN-within", "MVN", "BatchNorm-train", "BatchNorm-test", "Scale", "Bias" })
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        data.Add("Embed", false);
        return data;
    }

    private static LayerParameter Param(string name) => name switch
    {
        "LRN-across" => new LayerParameter { Name = name, Type = "LRN" },
        "LRN-within" => new LayerParameter { Name = name, Type = "LRN", LrnParam = new LRNParameter { NormRegion = NormRegion.WithinChannel, LocalSize = 3 } },
        "BatchNorm-train" => new LayerParameter { Name = name, Type = "BatchNorm", Phase = Phase.Train },
        "BatchNorm-test" => new LayerParameter { Name = name, Type = "BatchNorm", Phase = Phase.Test },
        "Scale" => new LayerParameter { Name = name, Type = "Scale", ScaleParam = new ScaleParameter { BiasTerm = true } },
        "Embed" => new LayerParameter { Name = name, Type = "Embed", EmbedParam = new EmbedParameter { NumOutput = 5, InputDim = 3 } },
        _ => new LayerParameter { Name = name, Type = name },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardBackward_AllocatesNothing(string name, bool inPlace)
    {
        var bottom = name == "Embed" ? TestBlobs.FromValues([2, 3], 0, 1, 2, 2, 1, 0) : TestBlobs.Uniform(1701, 0.5f, 1.5f, 2, 3, 16, 16);
        var top = inPlace ? bottom : new Blob();
        Blob[] bottoms = [bottom], tops = [top];
        bool[] propagate = [name != "Embed"];
        var layer = LayerRegistry.Create(Param(name));
        layer.SetUp(bottoms, tops);
        for (int i = 0; i < 3; i++)
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
