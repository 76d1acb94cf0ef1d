using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = tanh(x); dx = dy·(1 − y²).</summary>
[LayerType("TanH")]
public sealed class TanHLayer : NeuronLayer
{
    public TanHLayer(LayerParameter param) : base(param) { }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.TanhBackward(y, dy, dx);
}
