using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// N-D convolution, y[n, o, p] = b[o] + Σ_{c in o's group, k} W[o, c, k] · x[n, c, p·stride − pad + k·dilation], as GEMMs over im2col columns.
/// Each bottom i gives top i with the same weights; output size per axis = (in + 2·pad − (dilation·(k−1)+1)) / stride + 1.
/// </summary>
[LayerType("Convolution")]
public sealed partial class ConvolutionLayer(LayerParameter param) : ConvolutionLayerBase(param)
{
    private protected override bool ReverseDimensions => false;

    private protected override void ComputeOutputShape(ReadOnlySpan<int> input, Span<int> output) =>
        Geometry.ConvolutionOutput(input, output);

    private protected override void ForwardImages(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, int index, int n0, int n1, Span<float> col)
    {
        var weights = ForwardWeights;
        var bottomData = bottom[index].Data;
        int positions = TopDim / Blobs[0].ShapeAt(0);
        bool transposed = UseTransposed(positions);
        for (int n = n0; n < n1; n++)
        {
            var image = OutputImage(top[index], n);
            if (transposed)
            {
                ForwardTransposed(bottomData.Slice(n * BottomDim, BottomDim), image, positions, col, ResidualImage(n));
                continue;
            }
            ForwardGemm(bottomData.Slice(n * BottomDim, BottomDim), weights, image, col, epilogue: true, residual: ResidualImage(n));
        }
    }

    private protected override void BackwardImages(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom,
        int index, int n0, int n1, Span<float> col, Span<float> weightDiff, Span<float> biasDiff)
    {
        bool weightGrad = ShouldComputeParamGradient(0);
        bool biasGrad = BiasTerm && ShouldComputeParamGradient(1);
        var topDiff = top[index].Diff;
        var bottomData = bottom[index].Data;
        for (int n = n0; n < n1; n++)
        {
            var topImage = topDiff.Slice(n * TopDim, TopDim);
            if (biasGrad)
            {
                AccumulateBiasGradient(topImage, biasDiff);
            }
            if (weightGrad)
            {
                if (TransposedWeightGradient)
                {
                    // weightDiff here is the part's transposed accumulator.
                    WeightGemmTransposed(bottomData.Slice(n * BottomDim, BottomDim), topImage, weightDiff, col);
                }
                else
                {
                    WeightGemm(bottomData.Slice(n * BottomDim, BottomDim), topImage, weightDiff, col);
                }
            }
            if (propagateDown[index])
            {
                BackwardGemm(topImage, bottom[index].Diff.Slice(n * BottomDim, BottomDim), col);
            }
        }
    }
}
