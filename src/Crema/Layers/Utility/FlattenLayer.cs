using Crema.Proto;

namespace Crema.Layers;

/// <summary>Collapses axes [axis, end_axis] into one: (N, C, H, W) → (N, C·H·W) by default. Top shares the bottom's data and diff.</summary>
[LayerType("Flatten")]
public sealed class FlattenLayer : Layer
{
    private static readonly FlattenParameter DefaultParam = new();
    private readonly List<int> _shape = [];

    public FlattenLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        if (ReferenceEquals(top[0], x))
        {
            throw Error("cannot run in place (top and bottom are the same blob)");
        }
        var p = Param.FlattenParam ?? DefaultParam;
        int start = Canonical(p.Axis, x, "axis");
        int end = Canonical(p.EndAxis, x, "end_axis");
        if (end < start)
        {
            throw Error($"end_axis {p.EndAxis} comes before axis {p.Axis} for bottom shape ({string.Join(", ", x.Shape)})");
        }
        _shape.Clear();
        for (int i = 0; i < start; i++)
        {
            _shape.Add(x.Shape[i]);
        }
        _shape.Add(x.CountRange(start, end + 1));
        for (int i = end + 1; i < x.NumAxes; i++)
        {
            _shape.Add(x.Shape[i]);
        }
        top[0].Reshape(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_shape));
        top[0].ShareData(x);
        top[0].ShareDiff(x);
    }

    private int Canonical(int axis, Blob x, string field)
    {
        if (axis < -x.NumAxes || axis >= x.NumAxes)
        {
            throw Error($"{field} {axis} out of range for bottom shape ({string.Join(", ", x.Shape)})");
        }
        return axis < 0 ? axis + x.NumAxes : axis;
    }

    // Data and diff are shared with the bottom: nothing to move.
    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom) { }
}
