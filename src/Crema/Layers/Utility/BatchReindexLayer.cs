using Crema.Proto;

namespace Crema.Layers;

/// <summary>y[i] = x[index[i]] along the first axis (bottom 1 = indices); backward adds each top row's diff into its source row.</summary>
[LayerType("BatchReindex")]
public sealed class BatchReindexLayer : Layer
{
    private int[] _topShape = [];

    public BatchReindexLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(2);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override bool AllowForceBackward(int bottomIndex) => bottomIndex != 1;

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        if (bottom[1].NumAxes != 1)
        {
            throw Error($"index bottom must be 1-D, got shape ({string.Join(", ", bottom[1].Shape)})");
        }
        if (x.NumAxes < 1)
        {
            throw Error("data bottom must have at least one axis");
        }
        if (_topShape.Length != x.NumAxes)
        {
            _topShape = new int[x.NumAxes];
        }
        _topShape[0] = bottom[1].Count;
        for (int i = 1; i < _topShape.Length; i++)
        {
            _topShape[i] = x.Shape[i];
        }
        top[0].Reshape(_topShape);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ReadOnlySpan<float> x = bottom[0].Data;
        ReadOnlySpan<float> index = bottom[1].Data;
        var y = top[0].Data;
        int rows = bottom[0].Shape[0];
        int inner = bottom[0].CountFrom(1);
        for (int i = 0; i < index.Length; i++)
        {
            int source = CheckedIndex(index[i], rows);
            x.Slice(source * inner, inner).CopyTo(y.Slice(i * inner, inner));
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[1])
        {
            throw Error("cannot backpropagate to the index bottom");
        }
        if (!propagateDown[0])
        {
            return;
        }
        ReadOnlySpan<float> dy = top[0].Diff;
        ReadOnlySpan<float> index = bottom[1].Data;
        var dx = bottom[0].Diff;
        int rows = bottom[0].Shape[0];
        int inner = bottom[0].CountFrom(1);
        dx.Clear();
        for (int i = 0; i < index.Length; i++)
        {
            var dst = dx.Slice(CheckedIndex(index[i], rows) * inner, inner);
            System.Numerics.Tensors.TensorPrimitives.Add(dst, dy.Slice(i * inner, inner), dst);
        }
    }

    private int CheckedIndex(float value, int rows)
    {
        int source = (int)value;
        if (source < 0 || source >= rows)
        {
            throw Error($"index {value} out of range [0, {rows - 1}]");
        }
        return source;
    }
}
