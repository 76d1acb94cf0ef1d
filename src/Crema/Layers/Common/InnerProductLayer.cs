using System.Numerics.Tensors;
using Crema.Fillers;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Fully connected layer: y = x·Wᵀ + b with x flattened to (M, K) from <c>axis</c> on, W: (N, K), or (K, N) with
/// <c>transpose</c> (then y = x·W + b); top shape = bottom shape before axis, then N.
/// </summary>
[LayerType("InnerProduct")]
public sealed class InnerProductLayer(LayerParameter param) : Layer(param)
{
    private int _numOutput;
    private int _axis;
    private int _k;
    private int _m;
    private bool _biasTerm;
    private bool _transpose;
    private int[] _topShape = [];

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.InnerProductParam ?? new InnerProductParameter();
        _numOutput = checked((int)p.NumOutput);
        Check(_numOutput > 0, "num_output must be > 0");
        if (p.Axis < -bottom[0].NumAxes || p.Axis >= bottom[0].NumAxes)
        {
            throw Error($"axis {p.Axis} out of range for bottom with {bottom[0].NumAxes} axes");
        }
        _axis = bottom[0].CanonicalAxis(p.Axis);
        _k = bottom[0].CountFrom(_axis);
        _biasTerm = p.BiasTerm;
        _transpose = p.Transpose;
        int[] weightShape = _transpose ? [_k, _numOutput] : [_numOutput, _k];
        // Caffe's legacy files store W as (1, 1, N, K) and b as (1, 1, 1, N): adopted and given the canonical shape.
        AdoptOrCreateWeights(weightShape, p.WeightFiller, _biasTerm ? [_numOutput] : null, p.BiasFiller);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        if (_axis >= b.NumAxes)
        {
            throw Error($"bottom has {b.NumAxes} axes, fewer than axis {_axis} needs");
        }
        int k = b.CountFrom(_axis);
        if (k != _k)
        {
            throw Error($"bottom has {k} inputs per row from axis {_axis}, the weights expect {_k}");
        }
        _m = b.CountRange(0, _axis);
        if (_topShape.Length != _axis + 1)
        {
            _topShape = new int[_axis + 1];
        }
        for (int i = 0; i < _axis; i++)
        {
            _topShape[i] = b.ShapeAt(i);
        }
        _topShape[_axis] = _numOutput;
        top[0].Reshape(_topShape);
    }

    // Frozen for inference (TEST), from this many rows on the weights are packed once for the GEMM kernels (`Crema.Benchmarks
    // smallm-table`, Zen 5, 2 threads, CaffeNet fc6): 3 rows 8.95 -> 6.33 ms, 10 rows 11.4 -> 6.8 ms; at 1–2 rows the
    // unpacked stream is as fast or faster (2 rows: 6.58 vs 6.70 ms).
    private const int PackedMinRows = 3;
    private PackedMatrix? _packedWeights;
    private readonly FrozenWeightsKey _packedKey = new();

    /// <summary>True while prepacked weights are cached, i.e. the last Forward took the packed path (for tests).</summary>
    internal bool HasPackedWeights => _packedWeights is not null;

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        // top (M, N) = bottom (M, K) · op(W) where op(W) is (K, N)
        var y = top[0].Data;
        if (!InferenceFrozen || Phase != Phase.Test || _m < PackedMinRows)
        {
            _packedWeights = null;
        }
        else
        {
            var w = Blobs[0].Data;
            if (_packedWeights is null || !_packedKey.Matches(w, InferenceGeneration))
            {
                _packedWeights = Gemm.Prepack(!_transpose, _k, _numOutput, w);
                _packedKey.Capture(w, InferenceGeneration);
            }
            Gemm.SgemmPacked(false, _m, bottom[0].Data, _packedWeights, y);
            AddBias(y);
            return;
        }
        if (_m <= Gemm.SmallMMaxRows)
        {
            // Few rows: stream W once at memory bandwidth, bias added on the way out.
            Gemm.SgemmSmallM(!_transpose, _m, _numOutput, _k, bottom[0].Data, Blobs[0].Data, _biasTerm ? Blobs[1].Data : default, y);
            return;
        }
        Gemm.Sgemm(false, !_transpose, _m, _numOutput, _k, 1f, bottom[0].Data, Blobs[0].Data, 0f, y);
        AddBias(y);
    }

    private void AddBias(Span<float> y)
    {
        if (_biasTerm)
        {
            var bias = Blobs[1].Data;
            for (int i = 0; i < _m; i++)
            {
                var row = y.Slice(i * _numOutput, _numOutput);
                TensorPrimitives.Add(row, bias, row);
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        var dy = top[0].Diff;
        var x = bottom[0].Data;
        if (ShouldComputeParamGradient(0))
        {
            if (_transpose)
            {
                // dW (K, N) += xᵀ · dy
                Gemm.Sgemm(true, false, _k, _numOutput, _m, 1f, x, dy, 1f, Blobs[0].Diff);
            }
            else
            {
                // dW (N, K) += dyᵀ · x
                Gemm.Sgemm(true, false, _numOutput, _k, _m, 1f, dy, x, 1f, Blobs[0].Diff);
            }
        }
        if (_biasTerm && ShouldComputeParamGradient(1))
        {
            // db (N) += Σ_rows dy
            var db = Blobs[1].Diff;
            for (int i = 0; i < _m; i++)
            {
                TensorPrimitives.Add(db, dy.Slice(i * _numOutput, _numOutput), db);
            }
        }
        if (propagateDown[0])
        {
            // dx (M, K) = dy (M, N) · W (N, K), or dy · Wᵀ when W is stored (K, N)
            Gemm.Sgemm(false, _transpose, _m, _k, _numOutput, 1f, dy, Blobs[0].Data, 0f, bottom[0].Diff);
        }
    }
}
