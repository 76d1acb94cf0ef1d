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
                BackwardGemm(bottomData.Slice(n * BottomDim, BottomDim), weights, image);
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
                    // The conv input here is the top: im2col(top diff) stays in the column buffer for the bottom gradient.
                    WeightGemm(topImage, bottomData.Slice(n * BottomDim, BottomDim), Blobs[0].Diff);
                }
                if (propagateDown[i])
                {
                    ForwardGemm(topImage, weights, bottom[i].Diff.Slice(n * BottomDim, BottomDim), skipIm2Col: weightGrad);
                }
            }
        }
    }
}
