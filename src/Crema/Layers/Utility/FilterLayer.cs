using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Keeps the items (first-axis rows) whose selector value is non-zero: top i = rows of bottom i where the last bottom ≠ 0.
/// Backward routes diffs back to the kept rows and zeroes the others.
/// </summary>
[LayerType("Filter")]
public sealed class FilterLayer : Layer
{
    private int[] _kept = [];
    private int _keptCount;
    private int[] _topShape = [];
    private bool _sizeTopsToBatch = true;

    public FilterLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.AtLeast(2);

    public override BlobCount TopCount => BlobCount.AtLeast(1);

    public override bool AllowForceBackward(int bottomIndex) => true;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(top.Count == bottom.Count - 1, $"needs one top per filtered bottom: {bottom.Count - 1} bottom(s) besides the selector, {top.Count} top(s)");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var selector = bottom[^1];
        int items = selector.NumAxes > 0 ? selector.Shape[0] : 1;
        for (int i = 1; i < selector.NumAxes; i++)
        {
            if (selector.Shape[i] != 1)
            {
                throw Error($"selector shape ({string.Join(", ", selector.Shape)}) must be (N) or (N, 1, ...)");
            }
        }
        for (int b = 0; b < bottom.Count - 1; b++)
        {
            if (bottom[b].NumAxes < 1 || bottom[b].Shape[0] != items)
            {
                throw Error($"bottom #{b} shape ({string.Join(", ", bottom[b].Shape)}) must have {items} items on its first axis, as the selector ({string.Join(", ", selector.Shape)})");
            }
        }
        if (_kept.Length < items)
        {
            _kept = new int[items];
        }
        _keptCount = 0;
        ReadOnlySpan<float> select = selector.Data;
        for (int n = 0; n < items; n++)
        {
            if ((int)select[n] != 0)
            {
                _kept[_keptCount++] = n;
            }
        }
        for (int t = 0; t < top.Count; t++)
        {
            var x = bottom[t];
            // NOTE: at set-up the selector is usually not filled yet; sizing tops to the full batch keeps
            // downstream layers from being set up with zero items (Forward reshapes again with the real count).
            if (_topShape.Length != x.NumAxes)
            {
                _topShape = new int[x.NumAxes];
            }
            _topShape[0] = _sizeTopsToBatch ? items : _keptCount;
            for (int i = 1; i < x.NumAxes; i++)
            {
                _topShape[i] = x.Shape[i];
            }
            top[t].Reshape(_topShape);
        }
        _sizeTopsToBatch = false;
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        for (int t = 0; t < top.Count; t++)
        {
            ReadOnlySpan<float> x = bottom[t].Data;
            var y = top[t].Data;
            int inner = bottom[t].CountFrom(1);
            for (int k = 0; k < _keptCount; k++)
            {
                x.Slice(_kept[k] * inner, inner).CopyTo(y.Slice(k * inner, inner));
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[^1])
        {
            throw Error("cannot backpropagate to the selector (last bottom)");
        }
        for (int t = 0; t < top.Count; t++)
        {
            if (!propagateDown[t])
            {
                continue;
            }
            ReadOnlySpan<float> dy = top[t].Diff;
            var dx = bottom[t].Diff;
            int inner = bottom[t].CountFrom(1);
            dx.Clear();
            for (int k = 0; k < _keptCount; k++)
            {
                dy.Slice(k * inner, inner).CopyTo(dx.Slice(_kept[k] * inner, inner));
            }
        }
    }
}
