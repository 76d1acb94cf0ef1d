using Crema.Kernels;

namespace Crema.Layers;

// Frozen for inference (TEST), a 2-D convolution without groups over few output positions runs transposed: Yᵀ (positions,
// outputs) = colᵀ (positions, kernel dim) · Wᵀ (kernel dim, outputs), with Wᵀ packed once, col = im2col(X) (X itself for
// 1×1 stride-1 kernels), then transposed into the top with the bias and the fused activation. The plain W · col fills its
// register tiles along the positions: 49 of a 7×7 map take 64 lanes (77 %), where the transposed GEMM's tiles run along
// the outputs (multiples of 64) and its 6-row slivers along the positions (49 in 54 rows, 91 %): ResNet-50's res5 1×1
// layers, ~15 % faster. Only 1×1 kernels take it: res5's 3×3 layers at batch 1 (K = 4608, where Winograd has too few tiles)
// measured no faster (1.7–1.8 ms either way, Zen 5), and their packed Wᵀ would cost 9.4 MB each.
public sealed partial class ConvolutionLayer
{
    private PackedMatrix? _transposedWeights;
    private readonly FrozenWeightsKey _transposedKey = new();

    /// <summary>True while Wᵀ is cached packed, i.e. the last Forward took the transposed 1×1 path (for tests).</summary>
    internal bool HasTransposedWeights => _transposedWeights is not null;

    // The transposed GEMM wastes fewer lanes: positions padded to 6-row slivers against positions padded to the plain one's
    // vectors (16 floats with AVX-512, 8 with AVX2, 4 portable), by at least 5 %; 2-D, one group, few positions (the
    // transposes around it are then cheap). Also drops the packed Wᵀ when the layer stops taking this path.
    private bool UseTransposed(int positions)
    {
        if (!InferenceFrozen || Phase != Proto.Phase.Test || !Geometry.Is1x1 || Geometry.NumSpatialAxes != 2 || Geometry.ChannelAxis != 1
            || positions > 128 || positions == 0
            || (Param.ConvolutionParam?.Group ?? 1) != 1)
        {
            _transposedWeights = null;
            return false;
        }
        int step = Gemm.VectorStep;
        double plain = positions / (double)((positions + step - 1) / step * step);
        double transposed = positions / (double)((positions + 5) / 6 * 6);
        if (transposed < plain + 0.05)
        {
            _transposedWeights = null;
            return false;
        }
        return true;
    }

    // One image: top (outputs, positions) from bottom (channels, spatial); col holds one image's im2col (unused for 1×1).
    // residual: the fused residual sum's image, or empty.
    private void ForwardTransposed(ReadOnlySpan<float> bottomImage, Span<float> topImage, int positions, Span<float> col, ReadOnlySpan<float> residual)
    {
        var weights = ForwardWeights;
        int outputs = Blobs[0].ShapeAt(0), channels = weights.Length / outputs;
        PackedMatrix packed;
        // The parts of a batch run this concurrently: one of them packs.
        lock (_transposedKey)
        {
            if (_transposedWeights is null || !_transposedKey.Matches(weights, ForwardWeightsVersion))
            {
                // W is stored (outputs, kernel dim): op(B) = Wᵀ, (kernel dim, outputs).
                _transposedWeights = Gemm.Prepack(true, channels, outputs, weights);
                _transposedKey.Capture(weights, ForwardWeightsVersion);
            }
            packed = _transposedWeights;
        }
        float[] yT = ScratchPool.Shared.Rent(positions * outputs);
        try
        {
            Gemm.SgemmPacked(true, positions, GroupColumns(bottomImage, 0, col), packed, yT);
            Transpose.Into(yT, positions, outputs, topImage);
        }
        finally
        {
            ScratchPool.Shared.Return(yT);
        }
        ApplyEpilogue(topImage, outputs, positions, residual);
    }

    private unsafe void ApplyEpilogue(Span<float> topImage, int outputs, int positions, ReadOnlySpan<float> residual)
    {
        var bias = ForwardBias;
        fixed (float* pbias = bias)
        fixed (float* ptop = topImage)
        fixed (float* pres = residual)
        {
            new GemmEpilogue(bias.IsEmpty ? null : pbias, HasFusedActivation, FusedNegativeSlope, ptop, residual.IsEmpty ? null : pres)
                .Apply(ptop, positions, 0, outputs, positions);
        }
    }
}
