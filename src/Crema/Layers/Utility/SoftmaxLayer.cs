using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>y_c = exp(x_c − max x) / Σ_k exp(x_k − max x) along <c>softmax_param.axis</c> (default 1).</summary>
[LayerType("Softmax")]
public sealed class SoftmaxLayer : Layer
{
    private int _outer;
    private int _channels;
    private int _inner;

    public SoftmaxLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0];
        int requested = Param.SoftmaxParam?.Axis ?? 1;
        if (!(requested >= -x.NumAxes && requested < x.NumAxes))
        {
            throw Error($"softmax axis {requested} out of range for bottom shape ({string.Join(", ", x.Shape)})");
        }
        int axis = x.CanonicalAxis(requested);
        _outer = x.CountRange(0, axis);
        _channels = x.ShapeAt(axis);
        _inner = x.CountFrom(axis + 1);
        if (!ReferenceEquals(top[0], x))
        {
            top[0].ReshapeLike(x);
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        SoftmaxKernels.Forward(_outer, _channels, _inner, bottom[0].Data, top[0].Data);

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[0])
        {
            SoftmaxKernels.Backward(_outer, _channels, _inner, top[0].Data, top[0].Diff, bottom[0].Diff);
        }
    }
}
