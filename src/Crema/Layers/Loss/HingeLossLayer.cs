using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// One-vs-all hinge: t_nk = max(0, 1 − δ(k = labelₙ)·x_nk) with δ = +1 for the label, −1 otherwise;
/// loss = Σ t / N (L1) or Σ t² / N (L2).
/// </summary>
[LayerType("HingeLoss")]
public sealed class HingeLossLayer : LossLayer
{
    private readonly Blob _margins = new();
    private bool _l2;
    private int _num;
    private int _dim;

    public HingeLossLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var norm = Param.HingeLossParam?.Norm ?? HingeLossParameter.Types.Norm.L1;
        Check(norm is HingeLossParameter.Types.Norm.L1 or HingeLossParameter.Types.Norm.L2, $"unknown norm {norm}");
        _l2 = norm == HingeLossParameter.Types.Norm.L2;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        _num = bottom[0].Shape[0];
        _dim = _num == 0 ? 0 : bottom[0].Count / _num;
        if (bottom[1].Count != _num)
        {
            throw Error($"needs one label per item: label shape {Shape(bottom[1])} vs. score shape {Shape(bottom[0])}");
        }
        _margins.ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        ReadOnlySpan<float> label = bottom[1].Data;
        var t = _margins.Data;
        for (int n = 0; n < _num; n++)
        {
            int c = CheckedLabel(label[n], _dim);
            for (int k = 0; k < _dim; k++)
            {
                float signed = k == c ? -x[n * _dim + k] : x[n * _dim + k];
                t[n * _dim + k] = Math.Max(0f, 1f + signed);
            }
        }
        float sum = _l2
            ? System.Numerics.Tensors.TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)t)
            : System.Numerics.Tensors.TensorPrimitives.Sum((ReadOnlySpan<float>)t);
        top[0].Data[0] = sum / Math.Max(1, _num);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        RefuseLabelGradient(propagateDown);
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> label = bottom[1].Data;
        ReadOnlySpan<float> t = _margins.Data;
        var dx = bottom[0].Diff;
        float scale = top[0].Diff[0] / Math.Max(1, _num);
        for (int n = 0; n < _num; n++)
        {
            int c = CheckedLabel(label[n], _dim);
            for (int k = 0; k < _dim; k++)
            {
                int i = n * _dim + k;
                // d t/dx = ±1 where the margin is active; L2 adds the factor 2t.
                float active = t[i] > 0 ? (_l2 ? 2 * t[i] : 1f) : 0f;
                dx[i] = (k == c ? -active : active) * scale;
            }
        }
    }
}
