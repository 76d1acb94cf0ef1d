using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Crops bottom 0 to the shape of bottom 1 on axes ≥ <c>axis</c>: y[i] = x[i + offset] (offsets per axis, or one for all,
/// default 0); axes before <c>axis</c> are kept whole. Bottom 1 only supplies the shape.
/// </summary>
[LayerType("Crop")]
public sealed class CropLayer(LayerParameter param) : Layer(param)
{
    private int[] _offsets = [];
    private int[] _topShape = [];

    public override BlobCount BottomCount => BlobCount.Exactly(2);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.CropParam ?? new CropParameter();
        var (x, reference) = (bottom[0], bottom[1]);
        if (x.NumAxes != reference.NumAxes)
        {
            throw Error($"bottoms must have the same number of axes, got {x.NumAxes} and {reference.NumAxes}");
        }
        if (p.Axis < -x.NumAxes || p.Axis >= x.NumAxes)
        {
            throw Error($"axis {p.Axis} out of range for bottoms with {x.NumAxes} axes");
        }
        int axis = x.CanonicalAxis(p.Axis);
        int cropped = x.NumAxes - axis;
        if (p.Offset.Count > 1 && p.Offset.Count != cropped)
        {
            throw Error($"offset must be given once or once per cropped axis ({cropped}), got {p.Offset.Count} values");
        }
        if (_topShape.Length != x.NumAxes)
        {
            _topShape = new int[x.NumAxes];
            _offsets = new int[x.NumAxes];
        }
        for (int i = 0; i < x.NumAxes; i++)
        {
            int offset = 0;
            int size = x.ShapeAt(i);
            if (i >= axis)
            {
                offset = p.Offset.Count == 0 ? 0 : checked((int)p.Offset[p.Offset.Count == 1 ? 0 : i - axis]);
                size = reference.ShapeAt(i);
                if (offset + size > x.ShapeAt(i))
                {
                    throw Error($"crop of size {size} at offset {offset} does not fit in bottom 0's axis {i} of size {x.ShapeAt(i)}");
                }
            }
            _offsets[i] = offset;
            _topShape[i] = size;
        }
        top[0].Reshape(_topShape);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        Copy(bottom[0].Data, top[0].Data, bottom[0], toTop: true);

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[0])
        {
            bottom[0].Diff.Clear();
            Copy(bottom[0].Diff, top[0].Diff, bottom[0], toTop: false);
        }
        if (propagateDown[1])
        {
            // The output does not depend on the reference's values.
            bottom[1].Diff.Clear();
        }
    }

    // Walks the top's rows (all axes but the last) and copies each contiguous row between top and the offset bottom region.
    private void Copy(Span<float> big, Span<float> small, Blob bigBlob, bool toTop)
    {
        int axes = _topShape.Length;
        if (axes == 0 || small.Length == 0)
        {
            if (axes == 0)
            {
                (toTop ? big : small).CopyTo(toTop ? small : big);
            }
            return;
        }
        int rowLength = _topShape[axes - 1];
        int rows = small.Length / rowLength;
        Span<int> index = stackalloc int[axes];
        for (int r = 0; r < rows; r++)
        {
            int offset = 0;
            for (int a = 0; a < axes; a++)
            {
                offset = offset * bigBlob.Shape[a] + index[a] + _offsets[a];
            }
            var bigRow = big.Slice(offset, rowLength);
            var smallRow = small.Slice(r * rowLength, rowLength);
            if (toTop)
            {
                bigRow.CopyTo(smallRow);
            }
            else
            {
                smallRow.CopyTo(bigRow);
            }
            for (int a = axes - 2; a >= 0; a--)
            {
                if (++index[a] < _topShape[a])
                {
                    break;
                }
                index[a] = 0;
            }
        }
    }
}
