using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = (shift + scale·x)^power; dx = dy·power·scale·(shift + scale·x)^(power − 1).</summary>
[LayerType("Power")]
public sealed class PowerLayer : NeuronLayer
{
    private readonly Blob _scratch = new();
    private float _power;
    private float _scale;
    private float _shift;
    private float _diffScale;

    public PowerLayer(LayerParameter param) : base(param) { }

    // dy/dx is constant when power is 0 or 1 or scale is 0; otherwise it depends on x.
    protected override bool NeedsInputForBackward => _diffScale != 0 && _power != 1;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.PowerParam ?? new PowerParameter();
        _power = p.Power;
        _scale = p.Scale;
        _shift = p.Shift;
        _diffScale = _power * _scale;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        if (NeedsInputForBackward)
        {
            _scratch.ReshapeLike(bottom[0]);
        }
    }

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y)
    {
        if (_diffScale == 0)
        {
            // Constant output; 0^0 counts as 1, as MathF.Pow and Caffe have it.
            y.Fill(_power == 0 ? 1f : MathF.Pow(_shift, _power));
            return;
        }
        Kernels.Activations.Affine(x, y, _scale, _shift);
        if (_power == 2)
        {
            TensorPrimitives.Multiply(y, y, y);
        }
        else if (_power != 1)
        {
            TensorPrimitives.Pow(y, _power, y);
        }
    }

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (_diffScale == 0 || _power == 1)
        {
            TensorPrimitives.Multiply(dy, _diffScale, dx);
            return;
        }
        // Computed from x rather than as power·y/(shift + scale·x), which Caffe uses and which is 0/0 where the base is 0.
        var slope = _scratch.Data;
        if (_power == 2)
        {
            Kernels.Activations.Affine(x, slope, _diffScale * _scale, _diffScale * _shift);
        }
        else
        {
            Kernels.Activations.Affine(x, slope, _scale, _shift);
            TensorPrimitives.Pow(slope, _power - 1, slope);
            TensorPrimitives.Multiply(slope, _diffScale, slope);
        }
        TensorPrimitives.Multiply(dy, slope, dx);
    }
}
