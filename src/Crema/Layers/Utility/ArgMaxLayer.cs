using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Indices of the top_k largest values along <c>axis</c> (or over each item's flattened values when no axis is given);
/// out_max_val adds (no axis) or returns instead (with axis) the values. No gradient.
/// </summary>
[LayerType("ArgMax")]
public sealed class ArgMaxLayer : Layer
{
    private bool _outMaxVal;
    private int _topK;
    private bool _hasAxis;
    private int _outer;
    private int _dim;
    private int _inner;
    private int[] _order = [];
    private float[] _values = [];
    private int[] _topShape = [];

    public ArgMaxLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override bool AllowForceBackward(int bottomIndex) => false;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ArgmaxParam ?? new ArgMaxParameter();
        _outMaxVal = p.OutMaxVal;
        Check(p.TopK >= 1 && p.TopK <= int.MaxValue, $"top_k must be at least 1, got {p.TopK}");
        _topK = (int)p.TopK;
        _hasAxis = p.HasAxis;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        if (_hasAxis)
        {
            int requested = Param.ArgmaxParam.Axis;
            if (requested < -x.NumAxes || requested >= x.NumAxes)
            {
                throw Error($"axis {requested} out of range for bottom shape ({string.Join(", ", x.Shape)})");
            }
            int axis = x.CanonicalAxis(requested);
            _outer = x.CountRange(0, axis);
            _dim = x.Shape[axis];
            _inner = x.CountFrom(axis + 1);
            if (_topShape.Length != x.NumAxes)
            {
                _topShape = new int[x.NumAxes];
            }
            for (int i = 0; i < _topShape.Length; i++)
            {
                _topShape[i] = x.Shape[i];
            }
            _topShape[axis] = _topK;
        }
        else
        {
            // (N, 1 or 2, top_k), padded with 1s to the bottom's rank, as Caffe does.
            _outer = x.NumAxes > 0 ? x.Shape[0] : 1;
            _dim = x.CountFrom(Math.Min(1, x.NumAxes));
            _inner = 1;
            int rank = Math.Max(3, x.NumAxes);
            if (_topShape.Length != rank)
            {
                _topShape = new int[rank];
            }
            Array.Fill(_topShape, 1);
            _topShape[0] = _outer;
            _topShape[1] = _outMaxVal ? 2 : 1;
            _topShape[2] = _topK;
        }
        if (_topK > _dim)
        {
            throw Error($"top_k {_topK} exceeds the {_dim} values to choose from (bottom shape ({string.Join(", ", x.Shape)}))");
        }
        top[0].Reshape(_topShape);
        if (_order.Length < _dim)
        {
            _order = new int[_dim];
            _values = new float[_dim];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        var y = top[0].Data;
        for (int o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inner; i++)
            {
                SelectTopK(x, (o * _dim * _inner) + i);
                for (int k = 0; k < _topK; k++)
                {
                    int index = _order[k];
                    float value = _values[index];
                    if (_hasAxis)
                    {
                        y[(o * _topK + k) * _inner + i] = _outMaxVal ? value : index;
                    }
                    else
                    {
                        int rowLength = (_outMaxVal ? 2 : 1) * _topK;
                        y[o * rowLength + k] = index;
                        if (_outMaxVal)
                        {
                            y[o * rowLength + _topK + k] = value;
                        }
                    }
                }
            }
        }
    }

    // Partial selection sort of the _dim values at stride _inner: _order[0.._topK) = their indices, largest first;
    // equal values rank the higher index first (Caffe orders (value, index) pairs descending).
    private void SelectTopK(ReadOnlySpan<float> x, int start)
    {
        for (int d = 0; d < _dim; d++)
        {
            _values[d] = x[start + d * _inner];
            _order[d] = d;
        }
        for (int k = 0; k < _topK; k++)
        {
            int best = k;
            for (int j = k + 1; j < _dim; j++)
            {
                float a = _values[_order[j]], b = _values[_order[best]];
                if (a > b || (a == b && _order[j] > _order[best]))
                {
                    best = j;
                }
            }
            (_order[k], _order[best]) = (_order[best], _order[k]);
        }
    }
}
