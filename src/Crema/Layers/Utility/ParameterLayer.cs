using Crema.Proto;

namespace Crema.Layers;

/// <summary>Exposes a learnable blob of <c>parameter_param.shape</c> as its top (top shares the blob's data and diff).</summary>
[LayerType("Parameter")]
public sealed class ParameterLayer : Layer
{
    public ParameterLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(0);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var shape = Param.ParameterParam?.Shape;
        Check(shape != null, "parameter_param.shape must be given");
        foreach (long d in shape!.Dim)
        {
            Check(d >= 0 && d <= int.MaxValue, $"shape has invalid dimension {d}");
        }
        if (Blobs.Count > 0)
        {
            using var expected = new Blob();
            expected.Reshape(shape);
            Check(Blobs.Count == 1, $"expects 1 parameter blob, got {Blobs.Count}");
            Check(Blobs[0].ShapeEquals(expected),
                $"parameter blob shape ({string.Join(", ", Blobs[0].Shape)}) does not match parameter_param.shape ({string.Join(", ", expected.Shape)})");
        }
        else
        {
            // Zeros, as Caffe leaves fresh memory; the solver or a weights file gives the values.
            var blob = new Blob();
            Blobs.Add(blob);
            blob.Reshape(shape);
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        top[0].ReshapeLike(Blobs[0]);
        top[0].ShareData(Blobs[0]);
        top[0].ShareDiff(Blobs[0]);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom) { }
}
