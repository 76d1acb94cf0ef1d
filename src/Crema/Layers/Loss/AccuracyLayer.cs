using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// accuracy = #(label among the top_k scores along <c>axis</c>) / #(non-ignored positions); optional top 1 = per-class accuracy.
/// A position is a hit when fewer than top_k classes score strictly higher than the true class. No gradient.
/// </summary>
[LayerType("Accuracy")]
public sealed class AccuracyLayer : Layer
{
    private int _topK;
    private bool _hasIgnoreLabel;
    private int _ignoreLabel;
    private int _outer;
    private int _channels;
    private int _inner;
    private int[] _perClassCount = [];
    private readonly int[] _perClassShape = new int[1];

    public AccuracyLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(2);

    public override BlobCount TopCount => BlobCount.Between(1, 2);

    public override bool AllowForceBackward(int bottomIndex) => false;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.AccuracyParam ?? new AccuracyParameter();
        _topK = checked((int)p.TopK);
        Check(_topK >= 1, $"top_k must be at least 1, got {p.TopK}");
        _hasIgnoreLabel = p.HasIgnoreLabel;
        _ignoreLabel = p.IgnoreLabel;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var scores = bottom[0];
        int requested = Param.AccuracyParam?.Axis ?? 1;
        if (!(requested >= -scores.NumAxes && requested < scores.NumAxes))
        {
            throw Error($"axis {requested} out of range for bottom shape ({string.Join(", ", scores.Shape)})");
        }
        int axis = scores.CanonicalAxis(requested);
        _outer = scores.CountRange(0, axis);
        _channels = scores.ShapeAt(axis);
        _inner = scores.CountFrom(axis + 1);
        if (_topK > _channels)
        {
            throw Error($"top_k {_topK} must not exceed the number of classes {_channels}");
        }
        if ((long)_outer * _inner != bottom[1].Count)
        {
            throw Error($"label count {bottom[1].Count} (shape ({string.Join(", ", bottom[1].Shape)})) must equal {_outer * _inner}, one label per position " +
                $"of score shape ({string.Join(", ", scores.Shape)}) with axis {axis}");
        }
        top[0].Reshape(ReadOnlySpan<int>.Empty);
        if (top.Count >= 2)
        {
            _perClassShape[0] = _channels;
            top[1].Reshape(_perClassShape);
        }
        if (_perClassCount.Length != _channels)
        {
            _perClassCount = new int[_channels];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> scores = bottom[0].Data;
        ReadOnlySpan<float> labels = bottom[1].Data;
        bool perClass = top.Count >= 2;
        Span<float> perClassHits = perClass ? top[1].Data : [];
        perClassHits.Clear();
        Array.Clear(_perClassCount);
        int hits = 0;
        int counted = 0;
        for (int o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inner; i++)
            {
                float raw = labels[o * _inner + i];
                int label = (int)raw;
                if (_hasIgnoreLabel && label == _ignoreLabel)
                {
                    continue;
                }
                if (label < 0 || label >= _channels)
                {
                    throw Error($"label {raw} out of range [0, {_channels - 1}] for {_channels} classes");
                }
                counted++;
                _perClassCount[label]++;
                int baseIndex = o * _channels * _inner + i;
                float truth = scores[baseIndex + label * _inner];
                int better = 0;
                for (int c = 0; c < _channels && better < _topK; c++)
                {
                    if (scores[baseIndex + c * _inner] > truth)
                    {
                        better++;
                    }
                }
                if (better < _topK)
                {
                    hits++;
                    if (perClass)
                    {
                        perClassHits[label]++;
                    }
                }
            }
        }
        top[0].Data[0] = counted == 0 ? 0 : (float)hits / counted;
        for (int c = 0; c < perClassHits.Length; c++)
        {
            perClassHits[c] = _perClassCount[c] == 0 ? 0 : perClassHits[c] / _perClassCount[c];
        }
    }
}
