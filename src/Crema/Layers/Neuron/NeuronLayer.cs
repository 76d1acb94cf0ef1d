using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Base of the element-wise layers: one bottom, one top of the same shape, y_i = f(x_i). Supports in-place use
/// (top == bottom, as Caffe nets write <c>bottom: "conv1" top: "conv1"</c>): a layer whose backward needs the original
/// input sets <see cref="NeedsInputForBackward"/>, and the input is then saved before the forward overwrites it.
/// </summary>
public abstract class NeuronLayer : Layer
{
    private readonly Blob _savedInput = new();

    protected NeuronLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    /// <summary>True when backward reads x and x cannot be recovered from y; in-place layers then keep a copy of x.</summary>
    protected virtual bool NeedsInputForBackward => false;

    protected static bool IsInPlace(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => ReferenceEquals(bottom[0], top[0]);

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (IsInPlace(bottom, top))
        {
            if (NeedsInputForBackward)
            {
                _savedInput.ReshapeLike(bottom[0]);
            }
        }
        else
        {
            top[0].ReshapeLike(bottom[0]);
        }
    }

    protected sealed override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (NeedsInputForBackward && IsInPlace(bottom, top))
        {
            bottom[0].Data.CopyTo(_savedInput.Data);
        }
        ForwardValues(bottom[0].Data, top[0].Data);
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[0])
        {
            BackwardValues(Input(bottom, top), top[0].Data, top[0].Diff, bottom[0].Diff);
        }
    }

    /// <summary>The input x of the last forward: the bottom's data, or its saved copy when the layer ran in place.</summary>
    protected ReadOnlySpan<float> Input(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        NeedsInputForBackward && IsInPlace(bottom, top) ? _savedInput.Data : bottom[0].Data;

    /// <summary>y = f(x). <paramref name="y"/> may be the same memory as <paramref name="x"/>. (Not named Forward: it would hide <see cref="Layer.Forward"/>.)</summary>
    protected abstract void ForwardValues(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>dx = f'(x)·dy. <paramref name="dx"/> may be the same memory as <paramref name="dy"/>, and y as x when in place
    /// (x is the saved input when <see cref="NeedsInputForBackward"/>).</summary>
    protected virtual void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        throw Error("has no backward pass");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _savedInput.Dispose();
        }
        base.Dispose(disposing);
    }
}
