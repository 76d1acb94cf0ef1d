using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = log_base(shift + scale·x) (base −1 means e); dx = dy·scale / ((shift + scale·x)·ln base).</summary>
[LayerType("Log")]
public sealed class LogLayer : NeuronLayer
{
    private float _baseScale;
    private float _scale;
    private float _shift;

    public LogLayer(LayerParameter param) : base(param) { }

    protected override bool NeedsInputForBackward => true;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.LogParam ?? new LogParameter();
        float b = p.Base;
        Check(b == -1 || (b > 0 && b != 1), $"base {b} must be -1 (for e) or > 0 and ≠ 1");
        _baseScale = b == -1 ? 1f : 1f / MathF.Log(b);
        _scale = p.Scale;
        _shift = p.Shift;
    }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
    {
        Kernels.Activations.Affine(x, y, _scale, _shift);
        TensorPrimitives.Log(y, y);
        if (_baseScale != 1)
        {
            TensorPrimitives.Multiply(y, _baseScale, y);
        }
    }

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.LogBackward(x, dy, dx, _scale * _baseScale, _scale, _shift);
}
