using Crema.Proto;

namespace Crema.Layers;

/// <summary>Binomial normal log likelihood (softplus): y = ln(1 + eˣ); dx = dy·σ(x).</summary>
[LayerType("BNLL")]
public sealed class BNLLLayer : NeuronLayer
{
    public BNLLLayer(LayerParameter param) : base(param) { }

    protected override bool NeedsInputForBackward => true;

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => Kernels.Activations.BnllForward(x, y);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.BnllBackward(x, dy, dx);
}
