using Crema.Proto;

namespace Crema.Layers;

/// <summary>y = 1 if x &gt; threshold, else 0. Not differentiable: backward is refused, as in Caffe.</summary>
[LayerType("Threshold")]
public sealed class ThresholdLayer : NeuronLayer
{
    private float _threshold;

    public ThresholdLayer(LayerParameter param) : base(param) { }

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) =>
        _threshold = Param.ThresholdParam?.Threshold ?? 0f;

    protected override void ForwardValues(ReadOnlySpan<float> x, Span<float> y) => Kernels.Activations.ThresholdForward(x, y, _threshold);
}
