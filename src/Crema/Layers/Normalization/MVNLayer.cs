using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Mean-variance normalisation per row of x viewed as (N·C, H·W), or (N, C·H·W) with across_channels:
/// y = x − mean, and with normalize_variance y = (x − mean) / (σ + eps), σ = sqrt(mean((x − mean)²)) (eps added to σ, as Caffe).
/// </summary>
[LayerType("MVN")]
public sealed class MVNLayer(LayerParameter param) : Layer(param)
{
    private bool _normalizeVariance, _acrossChannels;
    private float _eps;
    private int _rows, _dim;
    private float[] _sigma = [];
    // The normalised output, kept for backward since the top may be overwritten in place by the next layer.
    private float[] _y = [];

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.MvnParam ?? new MVNParameter();
        _normalizeVariance = p.NormalizeVariance;
        _acrossChannels = p.AcrossChannels;
        _eps = p.Eps;
        Check(_eps >= 0, $"eps must be >= 0, got {_eps}");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        Check(b.NumAxes is >= 1 and <= 4, $"bottom must have 1 to 4 axes (num, channels, height, width), got {b.NumAxes}");
        _rows = _acrossChannels ? b.Num : b.Num * b.Channels;
        _dim = _rows == 0 ? 0 : b.Count / _rows;
        top[0].ReshapeLike(b);
        if (_sigma.Length < _rows)
        {
            _sigma = new float[_rows];
        }
        if (_normalizeVariance && _y.Length < b.Count)
        {
            _y = new float[b.Count];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        var y = top[0].Data;
        for (int r = 0; r < _rows; r++)
        {
            var row = y.Slice(r * _dim, _dim);
            float mean = TensorPrimitives.Sum(x.Slice(r * _dim, _dim)) / _dim;
            TensorPrimitives.Subtract(x.Slice(r * _dim, _dim), mean, row);
            if (_normalizeVariance)
            {
                _sigma[r] = MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / _dim);
                TensorPrimitives.Divide(row, _sigma[r] + _eps, row);
            }
        }
        if (_normalizeVariance)
        {
            y.CopyTo(_y);
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> dy = top[0].Diff;
        var dx = bottom[0].Diff;
        for (int r = 0; r < _rows; r++)
        {
            var dyRow = dy.Slice(r * _dim, _dim);
            var dxRow = dx.Slice(r * _dim, _dim);
            float meanDy = TensorPrimitives.Sum(dyRow) / _dim;
            if (!_normalizeVariance)
            {
                TensorPrimitives.Subtract(dyRow, meanDy, dxRow);
                continue;
            }
            // dx = (dy − mean(dy) − y·mean(y·dy)·(σ+eps)/σ) / (σ + eps). NOTE: Caffe drops the (σ+eps)/σ factor, which is
            // exact only for eps → 0; with σ = 0 the row is constant, y = 0 and the term vanishes.
            var yRow = _y.AsSpan(r * _dim, _dim);
            float sigma = _sigma[r], denominator = sigma + _eps;
            float meanYDy = TensorPrimitives.Dot(yRow, dyRow) / _dim;
            float factor = sigma > 0 ? meanYDy * denominator / sigma : 0;
            for (int i = 0; i < _dim; i++)
            {
                dxRow[i] = (dyRow[i] - meanDy - yRow[i] * factor) / denominator;
            }
        }
    }
}
