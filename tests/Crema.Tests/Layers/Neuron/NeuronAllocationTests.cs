using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

// Steady-state Forward and Backward allocate nothing (STYLE.md), out of place and in place.
[Collection(DropoutSerialCollection.Name)]
public class NeuronAllocationTests
{
    public static TheoryData<string, bool> Layers()
    {
        var data = new TheoryData<string, bool>();
        foreach (string type in new[] { "ReLU", "PReLU", "ELU", "Sigmoid", "TanH", "AbsVal", "Power", "Exp", "Log", "BNLL", "Clip", "Swish", "Dropout" })
        {
            data.Add(type, false);
            data.Add(type, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void ForwardBackward_AllocatesNothing(string type, bool inPlace)
    {
        var param = new LayerParameter
        {
            Name = "n",
            Type = type,
            PowerParam = new PowerParameter { Power = 2.5f, Shift = 4 },
            ClipParam = new ClipParameter { Min = -1, Max = 1 },
        };
        var bottom = TestBlobs.Uniform(1701, 0.5f, 1.5f, 2, 3, 16, 16);
        var top = inPlace ? bottom : new Blob();
        Blob[] bottoms = [bottom], tops = [top];
        bool[] propagate = [true];
        var layer = Create(param);
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
