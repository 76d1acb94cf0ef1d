using Crema.Scripting;
using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.CustomLayers;

/// <summary>The Euclidean loss compiled into this (test) assembly, as a user's own project would: no Roslyn at run time.</summary>
public sealed class RegisteredEuclideanLoss(LayerParameter param) : Layer(param)
{
    private readonly Blob _difference = new();

    protected override float DefaultLossWeight(int topIndex) => topIndex == 0 ? 1 : 0;

    public override BlobCount BottomCount => BlobCount.Exactly(2);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(bottom[0].Count == bottom[1].Count, $"bottom counts differ: {bottom[0].Count} and {bottom[1].Count}");
        top[0].Reshape([]);
        _difference.ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        System.Numerics.Tensors.TensorPrimitives.Subtract(bottom[0].Data, bottom[1].Data, _difference.Data);
        top[0].Data[0] = System.Numerics.Tensors.TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)_difference.Data) / bottom[0].Num / 2;
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        for (int b = 0; b < 2; b++)
        {
            if (propagateDown[b])
            {
                float scale = (b == 0 ? 1 : -1) * top[0].Diff[0] / bottom[0].Num;
                System.Numerics.Tensors.TensorPrimitives.Multiply(_difference.Data, scale, bottom[b].Diff);
            }
        }
    }
}

public class RegisteredLayerTests
{
    [Fact]
    public void RegisteredType_IsUsableByItsOwnTypeName()
    {
        LayerRegistry.Register<RegisteredEuclideanLoss>("MyEuclidean");
        var layer = LayerRegistry.Create(new LayerParameter { Name = "loss", Type = "MyEuclidean" });
        Assert.IsType<RegisteredEuclideanLoss>(layer);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer,
            [TestBlobs.Gaussian(1701, 1f, 10, 5), TestBlobs.Gaussian(1702, 1f, 10, 5)], [new Blob()]);
    }

    [Theory]
    [InlineData("Crema.Tests", "RegisteredEuclideanLoss")]                        // assembly name + simple class name
    [InlineData("Crema.Tests.CustomLayers", "RegisteredEuclideanLoss")]           // namespace
    [InlineData("Crema.Tests", "Crema.Tests.CustomLayers.RegisteredEuclideanLoss")] // full name
    public void PythonType_FindsTheClassInALoadedAssembly(string module, string layerName)
    {
        var layer = LayerRegistry.Create(CustomLayerFiles.Python("loss", module, layerName));
        Assert.IsType<RegisteredEuclideanLoss>(layer);
    }

    [Fact]
    public void AssemblyLayer_MatchesTheCompiledExample()
    {
        var fromAssembly = LayerRegistry.Create(CustomLayerFiles.Python("a", "Crema.Tests", "RegisteredEuclideanLoss"));
        var fromSource = CustomLayerLoader.Create(CustomLayerFiles.Python("b", "euclidean_loss.cs", "EuclideanLossLayer"), CustomLayerFiles.ExamplesDir);
        var pred = TestBlobs.Gaussian(1701, 1f, 10, 5);
        var label = TestBlobs.Gaussian(1702, 1f, 10, 5);
        var topA = new Blob();
        var topB = new Blob();
        fromAssembly.SetUp([pred, label], [topA]);
        fromSource.SetUp([pred, label], [topB]);
        fromAssembly.Forward([pred, label], [topA]);
        fromSource.Forward([pred, label], [topB]);
        Assert.Equal(topB.Data[0], topA.Data[0], 5);
    }
}
