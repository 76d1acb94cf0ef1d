using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

/// <summary>Steady-state Forward/Backward (Reshape included) must not allocate.</summary>
public class CommonLayerAllocationTests
{
    private static Blob Labels(int classes, params int[] shape)
    {
        var blob = new Blob(shape);
        for (int i = 0; i < blob.Count; i++)
        {
            blob.Data[i] = i % classes;
        }
        return blob;
    }

    public static TheoryData<string> Cases() =>
        ["Softmax", "SoftmaxWithLoss", "Accuracy", "EuclideanLoss", "Split", "Flatten", "Reshape", "Concat", "Slice", "Eltwise", "SigmoidCrossEntropyLoss"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardBackward_AllocatesNothing(string type)
    {
        var param = new LayerParameter { Name = "x", Type = type };
        Blob[] bottom = [TestBlobs.Gaussian(1701, 1f, 8, 10)];
        Blob[] top = [new Blob()];
        switch (type)
        {
            case "SoftmaxWithLoss":
            case "Accuracy":
                bottom = [bottom[0], Labels(10, 8)];
                break;
            case "EuclideanLoss":
            case "Eltwise":
            case "Concat":
                bottom = [bottom[0], TestBlobs.Gaussian(1702, 1f, 8, 10)];
                break;
            case "SigmoidCrossEntropyLoss":
                bottom = [bottom[0], Labels(2, 8, 10)];
                break;
            case "Split":
            case "Slice":
                top = [new Blob(), new Blob()];
                break;
            case "Reshape":
                param.ReshapeParam = new ReshapeParameter { Shape = new BlobShape { Dim = { 0, -1, 1 } } };
                break;
        }
        var layer = LayerRegistry.Create(param);
        layer.SetUp(bottom, top);
        bool[] propagate = new bool[bottom.Length];
        propagate[0] = type != "Accuracy";
        layer.Forward(bottom, top);
        if (propagate[0])
        {
            layer.Backward(top, propagate, bottom);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            layer.Forward(bottom, top);
            if (propagate[0])
            {
                layer.Backward(top, propagate, bottom);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{type}: {allocated} bytes allocated in steady state");
    }
}
