using Crema.Proto;

namespace Crema.Layers;

/// <summary>Repeats the bottom <c>tiles</c> times along <c>axis</c>: shape[axis] becomes shape[axis]·tiles; backward sums the copies.</summary>
[LayerType("Tile")]
public sealed class TileLayer : Layer
{
    private int _axis;
    private int _tiles;
    private int _outer;
    private int _inner;
    private int[] _topShape = [];

    public TileLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.TileParam;
        Check(p != null && p.HasTiles, "tile_param.tiles must be given");
        Check(p!.Tiles > 0, $"tiles must be positive, got {p.Tiles}");
        _tiles = p.Tiles;
        Check(!ReferenceEquals(top[0], bottom[0]), "cannot run in place (top and bottom are the same blob)");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        int requested = Param.TileParam.Axis;
        if (requested < -x.NumAxes || requested >= x.NumAxes)
        {
            throw Error($"axis {requested} out of range for bottom shape ({string.Join(", ", x.Shape)})");
        }
        _axis = x.CanonicalAxis(requested);
        if (_topShape.Length != x.NumAxes)
        {
            _topShape = new int[x.NumAxes];
        }
        for (int i = 0; i < _topShape.Length; i++)
        {
            _topShape[i] = x.Shape[i];
        }
        _topShape[_axis] = checked(_topShape[_axis] * _tiles);
        top[0].Reshape(_topShape);
        _outer = x.CountRange(0, _axis);
        _inner = x.CountFrom(_axis);
    }

    // x: (outer, inner) → y: (outer, tiles, inner)
    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        var y = top[0].Data;
        for (int o = 0; o < _outer; o++)
        {
            var src = x.Slice(o * _inner, _inner);
            for (int t = 0; t < _tiles; t++)
            {
                src.CopyTo(y.Slice((o * _tiles + t) * _inner, _inner));
            }
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
        for (int o = 0; o < _outer; o++)
        {
            var dst = dx.Slice(o * _inner, _inner);
            dy.Slice(o * _tiles * _inner, _inner).CopyTo(dst);
            for (int t = 1; t < _tiles; t++)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(dst, dy.Slice((o * _tiles + t) * _inner, _inner), dst);
            }
        }
    }
}
