using Crema.Kernels;

namespace Crema.Layers;

/// <summary>
/// Inference-only state of a convolution (set by Net.OptimizeForInference in TEST): private weight and bias copies with a
/// following per-channel affine map (BatchNorm, Scale) folded in, and a leaky ReLU fused into the bias pass.
/// </summary>
public abstract partial class ConvolutionLayerBase : IInferenceFusionTarget
{
    // Folded copies: weights (num_output, C/group, kernel…) row o times scale[o]; bias (num_output) = b·scale + shift.
    private float[]? _foldedWeights;
    private float[]? _foldedBias;
    private bool _fusedActivation;
    private float _fusedNegativeSlope;

    /// <summary>
    /// Changes on every Net.OptimizeForInference (a fold made or dropped, or blobs edited since), so caches derived from
    /// <see cref="ForwardWeights"/> (transformed or packed weights) know to rebuild.
    /// </summary>
    private protected int ForwardWeightsVersion { get; private set; }

    /// <summary>Whether Forward must apply a leaky ReLU after the bias (fused by Net.OptimizeForInference); applied by ForwardGemm's epilogue.</summary>
    private protected bool HasFusedActivation => _fusedActivation;

    /// <summary>The slope of the fused activation for negative values (0: plain ReLU).</summary>
    private protected float FusedNegativeSlope => _fusedNegativeSlope;

    // Deconvolution's weights are (conv out = bottom channels, num_output / group, …): its output channel is not a weight
    // row, so only Convolution folds. The map acts on axis 1, so the channel axis must be 1 too.
    int IInferenceFusionTarget.FoldableChannels => !ReverseDimensions && Geometry.ChannelAxis == 1 ? _numOutput : 0;

    bool IInferenceFusionTarget.CanFuseActivation => !ReverseDimensions;

    void IInferenceFusionTarget.FoldChannelAffine(double[] scale, double[] shift)
    {
        if (ReverseDimensions || scale.Length != _numOutput || shift.Length != _numOutput)
        {
            throw Error($"cannot fold a {scale.Length}-channel affine map into {_numOutput} outputs");
        }
        ReadOnlySpan<float> weights = ForwardWeights;
        ReadOnlySpan<float> bias = ForwardBias;
        var foldedWeights = new float[weights.Length];
        var foldedBias = new float[_numOutput];
        int perOutput = weights.Length / _numOutput;
        for (int o = 0; o < _numOutput; o++)
        {
            double s = scale[o];
            for (int k = o * perOutput; k < (o + 1) * perOutput; k++)
            {
                foldedWeights[k] = (float)(weights[k] * s);
            }
            foldedBias[o] = (float)(((bias.IsEmpty ? 0.0 : bias[o]) * s) + shift[o]);
        }
        _foldedWeights = foldedWeights;
        _foldedBias = foldedBias;
        ForwardWeightsVersion++;
    }

    void IInferenceFusionTarget.FuseActivation(float negativeSlope)
    {
        _fusedActivation = true;
        _fusedNegativeSlope = negativeSlope;
    }

    // Every OptimizeForInference starts here, so a new version also tells caches that the blobs themselves may have been
    // edited since (the documented way to apply changed weights is to optimise again).
    void IInferenceFusionTarget.ClearInferenceFusion()
    {
        ForwardWeightsVersion++;
        _foldedWeights = null;
        _foldedBias = null;
        _fusedActivation = false;
    }
}
