using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// TRAIN: y = x·m/(1 − p) with m ~ Bernoulli(1 − p) drawn from <see cref="Rng"/> each forward (inverted dropout, as Caffe);
/// TEST: y = x.
/// </summary>
[LayerType("Dropout")]
public sealed class DropoutLayer : NeuronLayer
{
    // m/(1 − p) per element: 0 for dropped units, the scale for kept ones; reused by backward.
    private readonly Blob _mask = new();
    private float _ratio;
    private float _scale;

    public DropoutLayer(LayerParameter param) : base(param) { }

    public float DropoutRatio => _ratio;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        _ratio = Param.DropoutParam?.DropoutRatio ?? 0.5f;
        Check(_ratio >= 0 && _ratio < 1, $"dropout_ratio {_ratio} must be in [0, 1)");
        _scale = 1f / (1f - _ratio);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        _mask.ReshapeLike(bottom[0]);
    }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
    {
        if (Phase == Phase.Train)
        {
            var mask = _mask.Data;
            Rng.Bernoulli(mask, 1f - _ratio);
            TensorPrimitives.Multiply(mask, _scale, mask);
            TensorPrimitives.Multiply(x, mask, y);
        }
        else if (!x.Overlaps(y))
        {
            x.CopyTo(y);
        }
    }

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (Phase == Phase.Train)
        {
            TensorPrimitives.Multiply(dy, _mask.Data, dx);
        }
        else if (!dy.Overlaps(dx))
        {
            dy.CopyTo(dx);
        }
    }
}
