using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Transposed convolution (the gradient of Convolution with respect to its input): top = col2im(Wᵀ · x) + b, weights
/// (C_in, num_output/group, k…); output size per axis = stride·(in − 1) + dilation·(k − 1) + 1 − 2·pad.
/// </summary>
[LayerType("Deconvolution")]
public sealed class DeconvolutionLayer(LayerParameter param) : ConvolutionLayerBase(param)
{
    private protected override bool ReverseDimensions => true;

    private protected override void ComputeOutputShape(ReadOnlySpan<int> input, Span<int> output)
    {
        var g = Geometry;
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = g.Stride[i] * (input[i] - 1) + g.Extent(i) - 2 * g.Pad[i];
            if (output[i] <= 0)
            {
                throw Error($"output size {output[i]} on axis {g.FirstSpatialAxis + i} is not positive (input {input[i]}, kernel {g.Kernel[i]}, stride {g.Stride[i]}, pad {g.Pad[i]})");
            }
        }
    }

    private protected override void ForwardImages(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, int index, int n0, int n1, Span<float> col)
    {
        var bottomData = bottom[index].Data;
        var topData = top[index].Data;
        for (int n = n0; n < n1; n++)
        {
            var image = topData.Slice(n * TopDim, TopDim);
            BackwardGemm(bottomData.Slice(n * BottomDim, BottomDim), image, col);
            if (BiasTerm)
            {
                AddBias(image, Blobs[1].Data);
            }
        }
    }

    private protected override void BackwardImages(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom,
        int index, int n0, int n1, Span<float> col, Span<float> weightDiff, Span<float> biasDiff)
    {
        var weights = Blobs[0].Data;
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
                // The conv input here is the top: im2col(top diff) stays in the column buffer for the bottom gradient.
                WeightGemm(topImage, bottomData.Slice(n * BottomDim, BottomDim), weightDiff, col);
            }
            if (propagateDown[index])
            {
                ForwardGemm(topImage, weights, bottom[index].Diff.Slice(n * BottomDim, BottomDim), col, skipIm2Col: weightGrad);
            }
        }
    }
}
