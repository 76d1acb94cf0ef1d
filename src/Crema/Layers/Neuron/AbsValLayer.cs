using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = |x|; dx = sign(x)·dy (0 at x = 0).</summary>
[LayerType("AbsVal")]
public sealed class AbsValLayer : NeuronLayer
{
    public AbsValLayer(LayerParameter param) : base(param) { }

    // |x| loses the sign backward needs; Caffe refuses in-place AbsVal, we keep a copy of x instead.
    protected override bool NeedsInputForBackward => true;

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Abs(x, y);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.AbsBackward(x, dy, dx);
}
