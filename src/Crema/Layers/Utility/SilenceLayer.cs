using Crema.Proto;

namespace Crema.Layers;

/// <summary>Consumes blobs nobody else uses (so they are not reported as outputs); no tops, and zero gradients.</summary>
[LayerType("Silence")]
public sealed class SilenceLayer : Layer
{
    public SilenceLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.AtLeast(1);

    public override BlobCount TopCount => BlobCount.Exactly(0);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        for (int i = 0; i < bottom.Count; i++)
        {
            if (propagateDown[i])
            {
                bottom[i].Diff.Clear();
            }
        }
    }
}
