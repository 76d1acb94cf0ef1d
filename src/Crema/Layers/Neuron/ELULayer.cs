using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = x for x &gt; 0, α·(eˣ − 1) otherwise; dx = dy for x &gt; 0, dy·(y + α) otherwise.</summary>
[LayerType("ELU")]
public sealed class ELULayer : NeuronLayer
{
    private float _alpha;

    public ELULayer(LayerParameter param) : base(param) { }

    // In place, y > 0 ⇔ x > 0 holds only for α ≥ 0; a negative α keeps x.
    protected override bool NeedsInputForBackward => _alpha < 0;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => _alpha = Param.EluParam?.Alpha ?? 1f;

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => Kernels.Activations.EluForward(x, y, _alpha);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.EluBackward(x, y, dy, dx, _alpha);
}
