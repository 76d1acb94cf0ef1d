using System.Numerics.Tensors;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// y = (x − μ_c) / sqrt(σ²_c + eps) per channel (axis 1) over (N, C, S). TRAIN uses the batch's μ, σ² and updates
/// Caffe's running sums (blobs: Σμ, Σσ², scale factor s); with use_global_stats (default in TEST) μ = Σμ/s, σ² = Σσ²/s.
/// </summary>
[LayerType("BatchNorm")]
public sealed class BatchNormLayer(LayerParameter param) : Layer(param), IChannelAffine
{
    private bool _useGlobalStats;
    private float _movingAverageFraction;
    private float _eps;
    private int _channels, _num, _spatial;
    private float[] _mean = [], _variance = [], _std = [];
    private float[] _sumDy = [], _sumDyY = [];
    // The normalised output (N, C, S) kept for backward: the top may be changed in place by the next layer (Scale).
    private float[] _xNorm = [];

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public bool UseGlobalStats => _useGlobalStats;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.BatchNormParam ?? new BatchNormParameter();
        _useGlobalStats = p.HasUseGlobalStats ? p.UseGlobalStats : Phase == Phase.Test;
        _movingAverageFraction = p.MovingAverageFraction;
        _eps = p.Eps;
        Check(_eps >= 0, $"eps must be >= 0, got {_eps}");
        Check(bottom[0].NumAxes >= 1, "bottom must have at least 1 axis");
        _channels = bottom[0].NumAxes == 1 ? 1 : bottom[0].ShapeAt(1);
        if (Blobs.Count > 0)
        {
            Check(Blobs.Count == 3, $"expected 3 blobs (mean, variance, scale factor), got {Blobs.Count}");
            Check(Blobs[0].Count == _channels && Blobs[1].Count == _channels && Blobs[2].Count == 1,
                $"stored statistics have shapes ({Blobs[0].ShapeString()}), ({Blobs[1].ShapeString()}), ({Blobs[2].ShapeString()}); {_channels} channels need ({_channels}), ({_channels}), (1)");
        }
        else
        {
            // Zero-filled on creation, as Caffe.
            Blobs.Add(new Blob(_channels));
            Blobs.Add(new Blob(_channels));
            Blobs.Add(new Blob(1));
        }
        // The statistics are never learned: give them lr_mult 0 (as Caffe does here) so no solver, weight decay included, moves them.
        for (int i = 0; i < 3; i++)
        {
            if (Param.Param.Count == i)
            {
                Param.Param.Add(new ParamSpec { LrMult = 0, DecayMult = 0 });
            }
            else
            {
                Check(Param.Param[i].LrMult == 0,
                    $"param #{i} has lr_mult {Param.Param[i].LrMult}: the statistics (mean, variance, scale factor) cannot be learned; use lr_mult 0 or give no param");
            }
        }
        _mean = new float[_channels];
        _variance = new float[_channels];
        _std = new float[_channels];
        _sumDy = new float[_channels];
        _sumDyY = new float[_channels];
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        int channels = b.NumAxes == 1 ? 1 : b.ShapeAt(1);
        Check(channels == _channels, $"bottom has {channels} channels, the layer was set up for {_channels}");
        _num = b.ShapeAt(0);
        _spatial = _num * _channels == 0 ? 0 : b.Count / (_num * _channels);
        top[0].ReshapeLike(b);
        if (!_useGlobalStats && _xNorm.Length < b.Count)
        {
            _xNorm = new float[b.Count];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        var y = top[0].Data;
        int m = _num * _spatial;
        if (_useGlobalStats)
        {
            // The stored sums are weighted by s (0 before any TRAIN pass: then μ = σ² = 0).
            float s = Blobs[2].Data[0];
            TensorPrimitives.Multiply(Blobs[0].Data, s == 0 ? 0 : 1 / s, _mean);
        }
        else
        {
            _mean.AsSpan().Clear();
            for (int n = 0; n < _num; n++)
            {
                for (int c = 0; c < _channels; c++)
                {
                    _mean[c] += TensorPrimitives.Sum(x.Slice((n * _channels + c) * _spatial, _spatial));
                }
            }
            TensorPrimitives.Divide(_mean, m, _mean);
        }

        // y = x − μ; in TRAIN σ² = mean of y² (biased).
        _variance.AsSpan().Clear();
        for (int n = 0; n < _num; n++)
        {
            for (int c = 0; c < _channels; c++)
            {
                int offset = (n * _channels + c) * _spatial;
                var row = y.Slice(offset, _spatial);
                TensorPrimitives.Subtract(x.Slice(offset, _spatial), _mean[c], row);
                if (!_useGlobalStats)
                {
                    _variance[c] += TensorPrimitives.SumOfSquares(row);
                }
            }
        }
        if (_useGlobalStats)
        {
            float s = Blobs[2].Data[0];
            TensorPrimitives.Multiply(Blobs[1].Data, s == 0 ? 0 : 1 / s, _variance);
        }
        else
        {
            TensorPrimitives.Divide(_variance, m, _variance);
            UpdateRunningSums(m);
        }

        TensorPrimitives.Add(_variance, _eps, _std);
        TensorPrimitives.Sqrt(_std, _std);
        for (int n = 0; n < _num; n++)
        {
            for (int c = 0; c < _channels; c++)
            {
                var row = y.Slice((n * _channels + c) * _spatial, _spatial);
                TensorPrimitives.Divide(row, _std[c], row);
            }
        }
        if (!_useGlobalStats)
        {
            y.CopyTo(_xNorm);
        }
    }

    // With global statistics y = x/std − μ/std per channel, computed as Forward does (μ, σ² and std in float).
    bool IChannelAffine.TryGetChannelAffine(IReadOnlyList<Blob> bottom, out double[] scale, out double[] shift)
    {
        scale = shift = [];
        if (!_useGlobalStats || bottom[0].NumAxes < 2)
        {
            return false;
        }
        float s = Blobs[2].Data[0];
        float inverse = s == 0 ? 0 : 1 / s;
        scale = new double[_channels];
        shift = new double[_channels];
        for (int c = 0; c < _channels; c++)
        {
            float mean = Blobs[0].Data[c] * inverse;
            float std = MathF.Sqrt((Blobs[1].Data[c] * inverse) + _eps);
            scale[c] = 1.0 / std;
            shift[c] = -mean / (double)std;
        }
        return true;
    }

    // Σμ ← maf·Σμ + μ, Σσ² ← maf·Σσ² + m/(m−1)·σ² (unbiased), s ← maf·s + 1.
    private void UpdateRunningSums(int m)
    {
        float maf = _movingAverageFraction;
        var scale = Blobs[2].Data;
        scale[0] = scale[0] * maf + 1;
        var meanSum = Blobs[0].Data;
        var varianceSum = Blobs[1].Data;
        float correction = m > 1 ? (float)m / (m - 1) : 1;
        for (int c = 0; c < _channels; c++)
        {
            meanSum[c] = maf * meanSum[c] + _mean[c];
            varianceSum[c] = maf * varianceSum[c] + correction * _variance[c];
        }
    }

    // The statistics get no gradient (their diffs stay 0); only the bottom does.
    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> dy = top[0].Diff;
        var dx = bottom[0].Diff;
        if (_useGlobalStats)
        {
            for (int n = 0; n < _num; n++)
            {
                for (int c = 0; c < _channels; c++)
                {
                    int offset = (n * _channels + c) * _spatial;
                    TensorPrimitives.Divide(dy.Slice(offset, _spatial), _std[c], dx.Slice(offset, _spatial));
                }
            }
            return;
        }

        // Through the batch statistics: dx = (dy − mean_c(dy) − y·mean_c(dy·y)) / std_c, sums first since dx may alias dy.
        ReadOnlySpan<float> y = _xNorm;
        _sumDy.AsSpan().Clear();
        _sumDyY.AsSpan().Clear();
        for (int n = 0; n < _num; n++)
        {
            for (int c = 0; c < _channels; c++)
            {
                int offset = (n * _channels + c) * _spatial;
                _sumDy[c] += TensorPrimitives.Sum(dy.Slice(offset, _spatial));
                _sumDyY[c] += TensorPrimitives.Dot(dy.Slice(offset, _spatial), y.Slice(offset, _spatial));
            }
        }
        float m = _num * _spatial;
        for (int n = 0; n < _num; n++)
        {
            for (int c = 0; c < _channels; c++)
            {
                int offset = (n * _channels + c) * _spatial;
                float meanDy = _sumDy[c] / m, meanDyY = _sumDyY[c] / m, std = _std[c];
                for (int i = offset; i < offset + _spatial; i++)
                {
                    dx[i] = (dy[i] - meanDy - y[i] * meanDyY) / std;
                }
            }
        }
    }
}
