using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = max(x, 0) + negative_slope·min(x, 0); dx = dy for x &gt; 0, negative_slope·dy otherwise.</summary>
[LayerType("ReLU")]
public sealed class ReLULayer : NeuronLayer, ILeakyRelu
{
    private float _negativeSlope;

    public ReLULayer(LayerParameter param) : base(param) { }

    float ILeakyRelu.NegativeSlope => _negativeSlope;

    // In place, backward reads the sign of y for x's: equal only when the slope is ≥ 0, so a negative slope keeps x.
    protected override bool NeedsInputForBackward => _negativeSlope < 0;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        _negativeSlope = Param.ReluParam?.NegativeSlope ?? 0f;

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => Kernels.Activations.ReluForward(x, y, _negativeSlope);

    protected override void BackwardValues(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        Kernels.Activations.ReluBackward(x, dy, dx, _negativeSlope);
}
