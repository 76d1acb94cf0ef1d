using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// loss = −Σ_positions Σ_l H[label, l]·log p_l / normalizer, p = softmax(x) along <c>infogain_loss_param.axis</c>;
/// H (C×C) comes from <c>infogain_loss_param.source</c> (a binaryproto) or a third bottom. Optional top 1 = p.
/// </summary>
[LayerType("InfogainLoss")]
public sealed class InfogainLossLayer : LossLayer
{
    // Floor on probabilities so log(0) stays finite.
    private const float LogThreshold = 1e-20f;
    private readonly Blob _prob = new();
    private readonly Blob _infogain = new();
    private readonly Blob[] _softmaxBottom = new Blob[1];
    private readonly Blob[] _softmaxTop;
    private SoftmaxLayer? _softmax;
    private float[] _rowSums = [];
    private LossParameter.Types.NormalizationMode _normalization;
    private bool _hasIgnoreLabel;
    private int _ignoreLabel;
    private int _outer;
    private int _channels;
    private int _inner;

    public InfogainLossLayer(LayerParameter param) : base(param) => _softmaxTop = [_prob];

    public override BlobCount BottomCount => BlobCount.Between(2, 3);

    public override BlobCount TopCount => BlobCount.Between(1, 2);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int axis = Param.InfogainLossParam?.Axis ?? 1;
        _softmax = new SoftmaxLayer(new LayerParameter { Name = Name + "/softmax", Type = "Softmax", SoftmaxParam = new SoftmaxParameter { Axis = axis } });
        _softmaxBottom[0] = bottom[0];
        _softmax.SetUp(_softmaxBottom, _softmaxTop);
        var lp = Param.LossParam;
        Check(lp == null || !lp.HasNormalize, "loss_param.normalize is not supported by InfogainLoss; use normalization");
        _hasIgnoreLabel = lp?.HasIgnoreLabel ?? false;
        _ignoreLabel = lp?.IgnoreLabel ?? 0;
        _normalization = lp?.Normalization ?? LossParameter.Types.NormalizationMode.Valid;
        if (bottom.Count < 3)
        {
            string source = Param.InfogainLossParam?.Source ?? "";
            Check(source.Length > 0, "infogain_loss_param.source (the H matrix file) must be given when there is no third bottom");
            BlobProto proto;
            try
            {
                proto = BlobProto.Parser.ParseFrom(File.ReadAllBytes(source));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Google.Protobuf.InvalidProtocolBufferException)
            {
                throw new CremaException($"Layer '{Name}' (type {Type}): cannot read infogain matrix '{source}': {e.Message}", e);
            }
            _infogain.FromProto(proto);
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        base.Reshape(bottom, top);
        _softmaxBottom[0] = bottom[0];
        _softmax!.Reshape(_softmaxBottom, _softmaxTop);
        int axis = bottom[0].CanonicalAxis(Param.InfogainLossParam?.Axis ?? 1);
        _outer = bottom[0].CountRange(0, axis);
        _channels = bottom[0].Shape[axis];
        _inner = bottom[0].CountFrom(axis + 1);
        if ((long)_outer * _inner != bottom[1].Count)
        {
            throw Error($"label count {bottom[1].Count} (shape {Shape(bottom[1])}) must equal {_outer * _inner}, one label per position of prediction shape {Shape(bottom[0])} with axis {axis}");
        }
        var h = Matrix(bottom);
        if ((long)_channels * _channels != h.Count)
        {
            throw Error($"infogain matrix H has shape {Shape(h)} ({h.Count} values); it must be {_channels}x{_channels} for {_channels} classes");
        }
        if (_rowSums.Length != _channels)
        {
            _rowSums = new float[_channels];
        }
        if (top.Count >= 2)
        {
            top[1].ReshapeLike(bottom[0]);
        }
    }

    private Blob Matrix(IReadOnlyList<Blob> bottom) => bottom.Count >= 3 ? bottom[2] : _infogain;

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        _softmax!.Forward(_softmaxBottom, _softmaxTop);
        ReadOnlySpan<float> prob = _prob.Data;
        ReadOnlySpan<float> label = bottom[1].Data;
        ReadOnlySpan<float> h = Matrix(bottom).Data;
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
                for (int l = 0; l < _channels; l++)
                {
                    loss -= h[c * _channels + l] * Math.Log(Math.Max(prob[(o * _channels + l) * _inner + i], LogThreshold));
                }
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
        if (propagateDown.Count > 2 && propagateDown[2])
        {
            throw Error("cannot backpropagate to the infogain matrix (bottom #2)");
        }
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> prob = _prob.Data;
        ReadOnlySpan<float> label = bottom[1].Data;
        ReadOnlySpan<float> h = Matrix(bottom).Data;
        for (int r = 0; r < _channels; r++)
        {
            _rowSums[r] = System.Numerics.Tensors.TensorPrimitives.Sum(h.Slice(r * _channels, _channels));
        }
        // Through the softmax: d loss / dx_l = p_l·Σ_k H[label, k] − H[label, l].
        var dx = bottom[0].Diff;
        int valid = 0;
        for (int o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inner; i++)
            {
                int c = CheckedLabel(label[o * _inner + i], _channels, _hasIgnoreLabel ? _ignoreLabel : null);
                for (int l = 0; l < _channels; l++)
                {
                    int k = (o * _channels + l) * _inner + i;
                    dx[k] = c < 0 ? 0 : prob[k] * _rowSums[c] - h[c * _channels + l];
                }
                if (c >= 0)
                {
                    valid++;
                }
            }
        }
        float scale = top[0].Diff[0] / Normalizer(_normalization, _outer, _inner, valid);
        System.Numerics.Tensors.TensorPrimitives.Multiply(dx, scale, dx);
    }
}
