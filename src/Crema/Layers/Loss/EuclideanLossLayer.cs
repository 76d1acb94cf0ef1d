using Crema.Proto;

namespace Crema.Layers;

/// <summary>loss = Σ (a − b)² / (2N), N = the batch size (first axis); gradients flow to both bottoms.</summary>
[LayerType("EuclideanLoss")]
public sealed class EuclideanLossLayer : LossLayer
{
    private readonly Blob _difference = new();

    public EuclideanLossLayer(LayerParameter param) : base(param) { }

    /// <summary>Both bottoms are values (not labels), so either may be differentiated.</summary>
    public override bool AllowForceBackward(int bottomIndex) => true;

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (bottom[0].Count != bottom[1].Count)
        {
            throw Error($"bottoms must have the same number of elements: {Shape(bottom[0])} has {bottom[0].Count}, {Shape(bottom[1])} has {bottom[1].Count}");
        }
        base.Reshape(bottom, top);
        _difference.ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var d = _difference.Data;
        System.Numerics.Tensors.TensorPrimitives.Subtract(bottom[0].Data, bottom[1].Data, d);
        float sumSquares = System.Numerics.Tensors.TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)d);
        top[0].Data[0] = sumSquares / BatchSize(bottom[0]) / 2;
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        // d loss/da = (a − b)·w/N, d loss/db = −(a − b)·w/N.
        for (int i = 0; i < 2; i++)
        {
            if (propagateDown[i])
            {
                float alpha = (i == 0 ? 1 : -1) * top[0].Diff[0] / BatchSize(bottom[0]);
                System.Numerics.Tensors.TensorPrimitives.Multiply(_difference.Data, alpha, bottom[i].Diff);
            }
        }
    }

    private static int BatchSize(Blob blob) => Math.Max(1, blob.NumAxes > 0 ? blob.ShapeAt(0) : 1);
}
