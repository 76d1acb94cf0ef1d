using Crema.Fillers;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// y[o, d, i] = x[o, d, i] + b[d] where b covers bottom[0]'s axes [axis, axis + num_axes): a learned blob (filler default
/// constant 0) or bottom[1].
/// </summary>
[LayerType("Bias")]
public sealed class BiasLayer(LayerParameter param) : Layer(param)
{
    private int _axis;
    private int _outer, _dim, _inner;

    public override BlobCount BottomCount => BlobCount.Between(1, 2);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.BiasParam ?? new BiasParameter();
        _axis = p.Axis;
        if (bottom.Count > 1)
        {
            Check(Blobs.Count == 0, $"takes its bias from bottom[1], so it has no learnable blob; got {Blobs.Count}");
            return;
        }
        if (Blobs.Count > 0)
        {
            Check(Blobs.Count == 1, $"expected 1 learnable blob (the bias), got {Blobs.Count}");
            return;
        }
        string? error = AxisOperand.TryLearnedShape(bottom[0], _axis, p.NumAxes, out int[] shape);
        Check(error == null, $"{error}");
        Blobs.Add(new Blob(shape));
        Filler.Fill(Blobs[0], p.Filler);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var bias = bottom.Count > 1 ? bottom[1] : Blobs[0];
        string? error = AxisOperand.TryResolve(bottom[0], bias, _axis, "bias", out _outer, out _dim, out _inner);
        Check(error == null, $"{error}");
        top[0].ReshapeLike(bottom[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        AxisBroadcast.Add(bottom[0].Data, (bottom.Count > 1 ? bottom[1] : Blobs[0]).Data, top[0].Data, _outer, _dim, _inner);

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        var dy = top[0].Diff;
        if (propagateDown[0] && bottom[0] != top[0])
        {
            dy.CopyTo(bottom[0].Diff);
        }
        if (bottom.Count == 1 ? ShouldComputeParamGradient(0) : propagateDown[1])
        {
            // A parameter accumulates its gradient; a bottom's diff is overwritten.
            var target = bottom.Count > 1 ? bottom[1] : Blobs[0];
            AxisBroadcast.SumInto(dy, target.Diff, _outer, _dim, _inner, accumulate: bottom.Count == 1);
        }
    }
}
