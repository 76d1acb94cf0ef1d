using Crema.Proto;

namespace Crema.Layers;

/// <summary>Declares the net's input blobs: tops shaped by <c>input_param.shape</c> (one shape for all tops, or one per top); the caller fills them.</summary>
[LayerType("Input")]
public sealed class InputLayer : Layer, IInputLayer
{
    public InputLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(0);

    public override BlobCount TopCount => BlobCount.AtLeast(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var shapes = Param.InputParam?.Shape;
        int numShapes = shapes?.Count ?? 0;
        Check(numShapes == 0 || numShapes == 1 || numShapes == top.Count,
            $"input_param must give 'shape' once, once per top, or not at all: {top.Count} top(s) vs. {numShapes} shape(s)");
        for (int i = 0; i < numShapes && i < top.Count; i++)
        {
            foreach (long d in shapes![i].Dim)
            {
                Check(d >= 0 && d <= int.MaxValue, $"input shape #{i} has invalid dimension {d}");
            }
        }
        if (numShapes > 0)
        {
            for (int i = 0; i < top.Count; i++)
            {
                top[i].Reshape(shapes![numShapes == 1 ? 0 : i]);
            }
        }
    }

    /// <summary>Keeps whatever shape the user gave the input blobs after set-up.</summary>
    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom) { }
}
