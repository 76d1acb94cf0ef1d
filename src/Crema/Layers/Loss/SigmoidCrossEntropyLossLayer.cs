using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// loss = −Σ [t·log σ(x) + (1 − t)·log(1 − σ(x))] / normalizer, computed stably from x; targets t in [0, 1], same count as x.
/// Normalization defaults to BATCH_SIZE for this layer (as in Caffe); ignore_label skips positions.
/// </summary>
[LayerType("SigmoidCrossEntropyLoss")]
public sealed class SigmoidCrossEntropyLossLayer : LossLayer
{
    private LossParameter.Types.NormalizationMode _normalization;
    private bool _hasIgnoreLabel;
    private int _ignoreLabel;
    private int _outer;
    private int _inner;
    private float _normalizer = 1;

    public SigmoidCrossEntropyLossLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        _normalization = ResolveNormalization(Param, LossParameter.Types.NormalizationMode.BatchSize);
        _hasIgnoreLabel = Param.LossParam?.HasIgnoreLabel ?? false;
        _ignoreLabel = Param.LossParam?.IgnoreLabel ?? 0;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (bottom[0].Count != bottom[1].Count)
        {
            throw Error($"bottoms must have the same number of elements: {Shape(bottom[0])} has {bottom[0].Count}, {Shape(bottom[1])} has {bottom[1].Count}");
        }
        base.Reshape(bottom, top);
        _outer = bottom[0].Shape[0];
        _inner = _outer == 0 ? 0 : bottom[0].Count / _outer;
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        ReadOnlySpan<float> t = bottom[1].Data;
        double loss = 0;
        int valid = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (_hasIgnoreLabel && (int)t[i] == _ignoreLabel)
            {
                continue;
            }
            // −[t log σ(x) + (1−t) log(1−σ(x))] = max(x, 0) − x·t + log(1 + e^(−|x|)), finite for any x.
            double xi = x[i];
            loss += Math.Max(xi, 0) - xi * t[i] + Math.Log(1 + Math.Exp(-Math.Abs(xi)));
            valid++;
        }
        _normalizer = Normalizer(_normalization, _outer, _inner, valid);
        top[0].Data[0] = (float)(loss / _normalizer);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        RefuseLabelGradient(propagateDown);
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> x = bottom[0].Data;
        ReadOnlySpan<float> t = bottom[1].Data;
        var dx = bottom[0].Diff;
        float scale = top[0].Diff[0] / _normalizer;
        for (int i = 0; i < x.Length; i++)
        {
            bool ignored = _hasIgnoreLabel && (int)t[i] == _ignoreLabel;
            // d loss/dx = σ(x) − t.
            dx[i] = ignored ? 0 : (1f / (1f + MathF.Exp(-x[i])) - t[i]) * scale;
        }
    }
}
