using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// N-D convolution, y[n, o, p] = b[o] + Σ_{c in o's group, k} W[o, c, k] · x[n, c, p·stride − pad + k·dilation], as GEMMs over im2col columns.
/// Each bottom i gives top i with the same weights; output size per axis = (in + 2·pad − (dilation·(k−1)+1)) / stride + 1.
/// </summary>
[LayerType("Convolution")]
public sealed class ConvolutionLayer(LayerParameter param) : ConvolutionLayerBase(param)
{
    private protected override bool ReverseDimensions => false;

    private protected override void ComputeOutputShape(ReadOnlySpan<int> input, Span<int> output) =>
        Geometry.ConvolutionOutput(input, output);

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var weights = Blobs[0].Data;
        for (int i = 0; i < bottom.Count; i++)
        {
            var bottomData = bottom[i].Data;
            var topData = top[i].Data;
            for (int n = 0; n < Num; n++)
            {
                var image = topData.Slice(n * TopDim, TopDim);
                ForwardGemm(bottomData.Slice(n * BottomDim, BottomDim), weights, image);
                if (BiasTerm)
                {
                    AddBias(image, Blobs[1].Data);
                }
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        var weights = Blobs[0].Data;
        bool weightGrad = ShouldComputeParamGradient(0);
        bool biasGrad = BiasTerm && ShouldComputeParamGradient(1);
        for (int i = 0; i < top.Count; i++)
        {
            var topDiff = top[i].Diff;
            var bottomData = bottom[i].Data;
            for (int n = 0; n < Num; n++)
            {
                var topImage = topDiff.Slice(n * TopDim, TopDim);
                if (biasGrad)
                {
                    AccumulateBiasGradient(topImage, Blobs[1].Diff);
                }
                if (weightGrad)
                {
                    WeightGemm(bottomData.Slice(n * BottomDim, BottomDim), topImage, Blobs[0].Diff);
                }
                if (propagateDown[i])
                {
                    BackwardGemm(topImage, weights, bottom[i].Diff.Slice(n * BottomDim, BottomDim));
                }
            }
        }
    }
}
