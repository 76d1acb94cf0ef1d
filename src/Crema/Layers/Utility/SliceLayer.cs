using Crema.Proto;

namespace Crema.Layers;

/// <summary>Cuts the bottom along <c>slice_param.axis</c> (or legacy slice_dim) at the slice_points, or into equal parts.</summary>
[LayerType("Slice")]
public sealed class SliceLayer : Layer
{
    private int _axis;
    private int _outer;
    private int _inner;
    private int[] _sizes = [];
    private int[] _topShape = [];

    public SliceLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.AtLeast(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.SliceParam;
        Check(p == null || !(p.HasAxis && p.HasSliceDim), "give either axis or slice_dim, not both");
        int points = p?.SlicePoint.Count ?? 0;
        Check(points == 0 || points == top.Count - 1, $"{points} slice_point(s) given for {top.Count} tops; need {top.Count - 1} or none");
        _sizes = new int[top.Count];
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        var p = Param.SliceParam;
        int requested = p != null && p.HasSliceDim ? (int)p.SliceDim : p?.Axis ?? 1;
        if (requested < -x.NumAxes || requested >= x.NumAxes)
        {
            throw Error($"axis {requested} out of range for bottom shape ({string.Join(", ", x.Shape)})");
        }
        _axis = x.CanonicalAxis(requested);
        int dim = x.Shape[_axis];
        if (p != null && p.SlicePoint.Count > 0)
        {
            int previous = 0;
            for (int i = 0; i < p.SlicePoint.Count; i++)
            {
                long point = p.SlicePoint[i];
                if (point <= previous || point >= dim)
                {
                    throw Error($"slice_point {point} must be increasing and inside (0, {dim}) (axis {_axis} of bottom shape ({string.Join(", ", x.Shape)}))");
                }
                _sizes[i] = (int)point - previous;
                previous = (int)point;
            }
            _sizes[^1] = dim - previous;
        }
        else
        {
            if (dim % top.Count != 0)
            {
                throw Error($"axis {_axis} of bottom shape ({string.Join(", ", x.Shape)}) has size {dim}, not divisible into {top.Count} equal slices");
            }
            Array.Fill(_sizes, dim / top.Count);
        }
        _outer = x.CountRange(0, _axis);
        _inner = x.CountFrom(_axis + 1);
        if (_topShape.Length != x.NumAxes)
        {
            _topShape = new int[x.NumAxes];
        }
        for (int i = 0; i < _topShape.Length; i++)
        {
            _topShape[i] = x.Shape[i];
        }
        for (int t = 0; t < top.Count; t++)
        {
            _topShape[_axis] = _sizes[t];
            top[t].Reshape(_topShape);
        }
        if (top.Count == 1)
        {
            top[0].ShareData(x);
            top[0].ShareDiff(x);
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (top.Count == 1)
        {
            return;
        }
        ReadOnlySpan<float> src = bottom[0].Data;
        int bottomRow = bottom[0].Shape[_axis] * _inner;
        int offset = 0;
        for (int t = 0; t < top.Count; t++)
        {
            int row = _sizes[t] * _inner;
            var y = top[t].Data;
            for (int o = 0; o < _outer; o++)
            {
                src.Slice(o * bottomRow + offset, row).CopyTo(y.Slice(o * row, row));
            }
            offset += row;
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (top.Count == 1 || !propagateDown[0])
        {
            return;
        }
        var dx = bottom[0].Diff;
        int bottomRow = bottom[0].Shape[_axis] * _inner;
        int offset = 0;
        for (int t = 0; t < top.Count; t++)
        {
            int row = _sizes[t] * _inner;
            ReadOnlySpan<float> dy = top[t].Diff;
            for (int o = 0; o < _outer; o++)
            {
                dy.Slice(o * row, row).CopyTo(dx.Slice(o * bottomRow + offset, row));
            }
            offset += row;
        }
    }
}
