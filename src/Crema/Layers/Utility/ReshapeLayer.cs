using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Replaces axes [axis, axis + num_axes) of the bottom's shape with <c>reshape_param.shape</c>, where 0 copies the bottom's
/// dimension and one −1 is inferred from the count. Top shares the bottom's data and diff.
/// </summary>
[LayerType("Reshape")]
public sealed class ReshapeLayer : Layer
{
    private static readonly ReshapeParameter DefaultParam = new();
    private long[] _dims = [];
    private int _inferredAxis = -1;
    private int[] _topShape = [];

    public ReshapeLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(!ReferenceEquals(top[0], bottom[0]), "cannot run in place (top and bottom are the same blob)");
        _dims = Param.ReshapeParam?.Shape?.Dim.ToArray() ?? [];
        _inferredAxis = -1;
        for (int i = 0; i < _dims.Length; i++)
        {
            Check(_dims[i] >= -1 && _dims[i] <= int.MaxValue, $"shape dimension {_dims[i]} at index {i} is invalid (use a size, 0 to copy or -1 to infer)");
            if (_dims[i] == -1)
            {
                Check(_inferredAxis < 0, $"shape ({string.Join(", ", _dims)}) has more than one -1; only one dimension can be inferred");
                _inferredAxis = i;
            }
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        var p = Param.ReshapeParam ?? DefaultParam;
        // axis may equal NumAxes (append); negative counts from one past the end.
        int start = p.Axis < 0 ? p.Axis + x.NumAxes + 1 : p.Axis;
        if (start < 0 || start > x.NumAxes)
        {
            throw Error($"axis {p.Axis} out of range for bottom shape ({string.Join(", ", x.Shape)})");
        }
        if (p.NumAxes < -1)
        {
            throw Error($"num_axes {p.NumAxes} must be >= 0, or -1 for all remaining axes");
        }
        int end = p.NumAxes == -1 ? x.NumAxes : start + p.NumAxes;
        if (end > x.NumAxes)
        {
            throw Error($"axis {p.Axis} + num_axes {p.NumAxes} exceeds the {x.NumAxes} axes of bottom shape ({string.Join(", ", x.Shape)})");
        }
        int n = start + _dims.Length + x.NumAxes - end;
        if (_topShape.Length != n)
        {
            _topShape = new int[n];
        }
        long explicitCount = 1;
        for (int i = 0; i < start; i++)
        {
            _topShape[i] = x.Shape[i];
        }
        for (int i = 0; i < _dims.Length; i++)
        {
            int d = (int)_dims[i];
            if (d == 0)
            {
                if (start + i >= x.NumAxes)
                {
                    throw Error($"shape dimension 0 at index {i} copies bottom axis {start + i}, but bottom shape ({string.Join(", ", x.Shape)}) has only {x.NumAxes} axes");
                }
                d = x.Shape[start + i];
            }
            _topShape[start + i] = d;
        }
        for (int i = end; i < x.NumAxes; i++)
        {
            _topShape[start + _dims.Length + i - end] = x.Shape[i];
        }
        for (int i = 0; i < n; i++)
        {
            if (_inferredAxis < 0 || i != start + _inferredAxis)
            {
                explicitCount *= _topShape[i];
            }
        }
        if (_inferredAxis >= 0)
        {
            if (explicitCount == 0 || x.Count % explicitCount != 0)
            {
                throw Error($"cannot infer the -1 dimension: bottom count {x.Count} (shape ({string.Join(", ", x.Shape)})) is not divisible by {explicitCount}");
            }
            _topShape[start + _inferredAxis] = (int)(x.Count / explicitCount);
        }
        else if (explicitCount != x.Count)
        {
            throw Error($"output shape ({string.Join(", ", _topShape)}) has {explicitCount} elements, bottom shape ({string.Join(", ", x.Shape)}) has {x.Count}");
        }
        top[0].Reshape(_topShape);
        top[0].ShareData(x);
        top[0].ShareDiff(x);
    }

    // Data and diff are shared with the bottom: nothing to move.
    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom) { }
}
