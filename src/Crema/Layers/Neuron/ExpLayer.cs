using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = base^(shift + scale·x) (base −1 means e), computed as b^shift · e^(ln b·scale·x); dx = dy·y·ln b·scale.</summary>
[LayerType("Exp")]
public sealed class ExpLayer : NeuronLayer
{
    private float _innerScale;
    private float _outerScale;

    public ExpLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ExpParam ?? new ExpParameter();
        float b = p.Base;
        Check(b == -1 || b > 0, $"base {b} must be -1 (for e) or > 0");
        float logBase = b == -1 ? 1f : MathF.Log(b);
        _innerScale = logBase * p.Scale;
        _outerScale = p.Shift == 0 ? 1f : MathF.Exp(logBase * p.Shift);
    }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
    {
        TensorPrimitives.Multiply(x, _innerScale, y);
        TensorPrimitives.Exp(y, y);
        if (_outerScale != 1)
        {
            TensorPrimitives.Multiply(y, _outerScale, y);
        }
    }

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        TensorPrimitives.Multiply(dy, y, dx);
        if (_innerScale != 1)
        {
            TensorPrimitives.Multiply(dx, _innerScale, dx);
        }
    }
}
