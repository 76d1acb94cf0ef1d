using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = x·σ(β·x); dx = dy·(β·y + σ(β·x)·(1 − β·y)).</summary>
[LayerType("Swish")]
public sealed class SwishLayer : NeuronLayer
{
    // σ(β·x) from the forward, reused by backward (so in place needs no copy of x).
    private readonly Blob _sigmoid = new();
    private float _beta;

    public SwishLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => _beta = Param.SwishParam?.Beta ?? 1f;

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        _sigmoid.ReshapeLike(bottom[0]);
    }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
    {
        var s = _sigmoid.Data;
        TensorPrimitives.Multiply(x, _beta, s);
        TensorPrimitives.Sigmoid(s, s);
        TensorPrimitives.Multiply(x, s, y);
    }

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.SwishBackward(y, _sigmoid.Data, dy, dx, _beta);
}
