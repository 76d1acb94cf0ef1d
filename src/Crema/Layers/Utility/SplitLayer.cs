using Crema.Proto;

namespace Crema.Layers;

/// <summary>Feeds one bottom to several consumers: every top shares the bottom's data; bottom diff = Σ top diffs.</summary>
[LayerType("Split")]
public sealed class SplitLayer : Layer
{
    public SplitLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.AtLeast(1);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        for (int i = 0; i < top.Count; i++)
        {
            // In place would make the diff sum read its own output.
            if (ReferenceEquals(top[i], bottom[0]))
            {
                throw Error($"top #{i} ('{top[i].Name}') is the bottom; Split cannot run in place");
            }
            top[i].ReshapeLike(bottom[0]);
            top[i].ShareData(bottom[0]);
        }
    }

    // Tops share the bottom's memory, so there is nothing to copy.
    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        var diff = bottom[0].Diff;
        top[0].Diff.CopyTo(diff);
        for (int i = 1; i < top.Count; i++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(diff, top[i].Diff, diff);
        }
    }
}
