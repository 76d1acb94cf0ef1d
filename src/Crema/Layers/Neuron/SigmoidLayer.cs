using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = 1 / (1 + e^−x); dx = dy·y·(1 − y).</summary>
[LayerType("Sigmoid")]
public sealed class SigmoidLayer : NeuronLayer
{
    public SigmoidLayer(LayerParameter param) : base(param) { }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.SigmoidBackward(y, dy, dx);
}
