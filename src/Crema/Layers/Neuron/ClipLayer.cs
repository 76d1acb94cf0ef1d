using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = max(min, min(x, max)); dx = dy where min ≤ x ≤ max (bounds included, as Caffe), else 0.</summary>
[LayerType("Clip")]
public sealed class ClipLayer : NeuronLayer
{
    private float _min;
    private float _max;

    public ClipLayer(LayerParameter param) : base(param) { }

    // A clipped y sits on a bound, where the inclusive rule would pass the gradient: backward needs the true x.
    protected override bool NeedsInputForBackward => true;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ClipParam;
        Check(p != null && p.HasMin && p.HasMax, "needs clip_param { min max }");
        _min = p!.Min;
        _max = p.Max;
        Check(_min <= _max, $"clip_param min {_min} is greater than max {_max}");
    }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Clamp(x, _min, _max, y);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.ClipBackward(x, dy, dx, _min, _max);
}
