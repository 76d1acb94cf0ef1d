using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// loss = −Σ log p[label] / normalizer with p = softmax(x) along <c>softmax_param.axis</c>; optional top 1 = p.
/// Labels: one integer per (outer, inner) position, e.g. (N) for (N, C) scores or (N, 1, H, W) / (N, H, W) for (N, C, H, W).
/// </summary>
[LayerType("SoftmaxWithLoss")]
public sealed class SoftmaxWithLossLayer : LossLayer
{
    // Smallest normal float (C's FLT_MIN): caps −log p for a probability that underflowed to 0.
    private const float FloatMin = 1.17549435e-38f;

    private readonly Blob _prob = new();
    private readonly Blob[] _softmaxBottom = new Blob[1];
    private readonly Blob[] _softmaxTop;
    private SoftmaxLayer? _softmax;
    private LossParameter.Types.NormalizationMode _normalization;
    private bool _hasIgnoreLabel;
    private int _ignoreLabel;
    private int _outer;
    private int _channels;
    private int _inner;

    public SoftmaxWithLossLayer(LayerParameter param) : base(param) => _softmaxTop = [_prob];

    public override BlobCount TopCount => BlobCount.Between(1, 2);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var softmaxParam = new LayerParameter { Name = Name + "/softmax", Type = "Softmax", SoftmaxParam = Param.SoftmaxParam?.Clone() };
        _softmax = new SoftmaxLayer(softmaxParam);
        _softmaxBottom[0] = bottom[0];
        _softmax.SetUp(_softmaxBottom, _softmaxTop);
        _hasIgnoreLabel = Param.LossParam?.HasIgnoreLabel ?? false;
        _ignoreLabel = _hasIgnoreLabel ? Param.LossParam!.IgnoreLabel : 0;
        _normalization = ResolveNormalization(Param, LossParameter.Types.NormalizationMode.Valid);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        _softmaxBottom[0] = bottom[0];
        _softmax!.Reshape(_softmaxBottom, _softmaxTop);
        int axis = bottom[0].CanonicalAxis(Param.SoftmaxParam?.Axis ?? 1);
        _outer = bottom[0].CountRange(0, axis);
        _channels = bottom[0].ShapeAt(axis);
        _inner = bottom[0].CountFrom(axis + 1);
        if ((long)_outer * _inner != bottom[1].Count)
        {
            throw Error($"label count {bottom[1].Count} (shape {Shape(bottom[1])}) must equal {_outer * _inner}, one label per position of prediction shape " +
                $"{Shape(bottom[0])} with softmax axis {axis}, each an integer in [0, {_channels - 1}]");
        }
        if (top.Count >= 2)
        {
            top[1].ReshapeLike(bottom[0]);
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        _softmax!.Forward(_softmaxBottom, _softmaxTop);
        ReadOnlySpan<float> prob = _prob.Data;
        ReadOnlySpan<float> label = bottom[1].Data;
        double loss = 0;
        int valid = 0;
        for (int o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inner; i++)
            {
                int c = CheckedLabel(label[o * _inner + i], _channels, _hasIgnoreLabel ? _ignoreLabel : null);
                if (c < 0)
                {
                    continue;
                }
                float p = prob[(o * _channels + c) * _inner + i];
                loss -= Math.Log(Math.Max(p, FloatMin));
                valid++;
            }
        }
        top[0].Data[0] = (float)(loss / Normalizer(_normalization, _outer, _inner, valid));
        if (top.Count >= 2)
        {
            prob.CopyTo(top[1].Data);
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        RefuseLabelGradient(propagateDown);
        if (!propagateDown[0])
        {
            return;
        }
        // d loss / dx_c = (p_c − [c == label]) · weight / normalizer; ignored positions get 0.
        var diff = bottom[0].Diff;
        _prob.Data.CopyTo(diff);
        ReadOnlySpan<float> label = bottom[1].Data;
        int valid = 0;
        for (int o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inner; i++)
            {
                int c = CheckedLabel(label[o * _inner + i], _channels, _hasIgnoreLabel ? _ignoreLabel : null);
                if (c < 0)
                {
                    for (int k = 0; k < _channels; k++)
                    {
                        diff[(o * _channels + k) * _inner + i] = 0;
                    }
                    continue;
                }
                diff[(o * _channels + c) * _inner + i] -= 1;
                valid++;
            }
        }
        float scale = top[0].Diff[0] / Normalizer(_normalization, _outer, _inner, valid);
        System.Numerics.Tensors.TensorPrimitives.Multiply(diff, scale, diff);
    }
}
