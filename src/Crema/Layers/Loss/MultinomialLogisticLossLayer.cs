using Crema.Proto;

namespace Crema.Layers;

/// <summary>loss = −Σₙ log max(p[n, labelₙ], 1e-20) / N for probabilities p: (N, C, ...) and labels: (N).</summary>
[LayerType("MultinomialLogisticLoss")]
public sealed class MultinomialLogisticLossLayer : LossLayer
{
    // Floor on probabilities so log(0) stays finite.
    private const float LogThreshold = 1e-20f;
    private int _num;
    private int _dim;

    public MultinomialLogisticLossLayer(LayerParameter param) : base(param) { }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        _num = bottom[0].Shape[0];
        _dim = _num == 0 ? 0 : bottom[0].Count / _num;
        if (bottom[1].Count != _num)
        {
            throw Error($"needs one label per item: label shape {Shape(bottom[1])} vs. prediction shape {Shape(bottom[0])}");
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> p = bottom[0].Data;
        ReadOnlySpan<float> label = bottom[1].Data;
        double loss = 0;
        for (int n = 0; n < _num; n++)
        {
            loss -= Math.Log(Math.Max(p[n * _dim + CheckedLabel(label[n], _dim)], LogThreshold));
        }
        top[0].Data[0] = (float)(loss / Math.Max(1, _num));
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        RefuseLabelGradient(propagateDown);
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> p = bottom[0].Data;
        ReadOnlySpan<float> label = bottom[1].Data;
        var dx = bottom[0].Diff;
        dx.Clear();
        float scale = -top[0].Diff[0] / Math.Max(1, _num);
        for (int n = 0; n < _num; n++)
        {
            int k = n * _dim + CheckedLabel(label[n], _dim);
            dx[k] = scale / Math.Max(p[k], LogThreshold);
        }
    }
}
