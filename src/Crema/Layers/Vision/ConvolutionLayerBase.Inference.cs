using Crema.Kernels;

namespace Crema.Layers;

/// <summary>
/// Inference-only state of a convolution (set by Net.OptimizeForInference in TEST): private weight and bias copies with a
/// following per-channel affine map (BatchNorm, Scale) folded in, a leaky ReLU fused into the bias pass, and the residual
/// sum (Eltwise SUM) the top feeds, computed into the sum's top.
/// </summary>
public abstract partial class ConvolutionLayerBase : IInferenceFusionTarget, IResidualFusionTarget
{
    // Folded copies: weights (num_output, C/group, kernel…) row o times scale[o]; bias (num_output) = b·scale + shift.
    private float[]? _foldedWeights;
    private float[]? _foldedBias;
    private bool _fusedActivation;
    private float _fusedNegativeSlope;
    // The fused residual sum: Forward writes act(output + _residual) into _residualOutput (the sum's top), not its own top.
    private Blob? _residual;
    private Blob? _residualOutput;
    private Blob[] _residualTops = [];

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

    bool IResidualFusionTarget.CanFuseResidual => !ReverseDimensions && !_fusedActivation && _residual is null && _concatOutput is null;

    void IResidualFusionTarget.FuseResidual(Blob residual, Blob output, float? activationSlope)
    {
        if (ReverseDimensions || _fusedActivation)
        {
            throw Error("cannot take over a residual sum: the layer is a deconvolution or already applies an activation");
        }
        _residual = residual;
        _residualOutput = output;
        _residualTops = [output];
        if (activationSlope is float slope)
        {
            _fusedActivation = true;
            _fusedNegativeSlope = slope;
        }
    }

    /// <summary>
    /// The tops Forward writes: <paramref name="top"/>, or with a fused residual sum the sum's top, reshaped like top[0]
    /// (after checking the residual has that shape too).
    /// </summary>
    private protected IReadOnlyList<Blob> ForwardTops(IReadOnlyList<Blob> top)
    {
        if (_concatOutput is not null)
        {
            ReshapeConcatOutput(top[0]);
        }
        if (_residualOutput is null || _residual is null)
        {
            return top;
        }
        if (!_residual.ShapeEquals(top[0]))
        {
            throw Error($"the fused residual sum's other bottom has shape ({string.Join(", ", _residual.Shape)}), this layer's top ({string.Join(", ", top[0].Shape)}); reshaping a net after OptimizeForInference must keep them equal");
        }
        _residualOutput.ReshapeLike(top[0]);
        return _residualTops;
    }

    /// <summary>Image n of the fused residual (laid out as one image of the top), or empty without one.</summary>
    private protected ReadOnlySpan<float> ResidualImage(int n) => _residual is null ? default : _residual.Data.Slice(n * TopDim, TopDim);

    /// <summary>Whether a residual sum was fused into this layer.</summary>
    private protected bool HasFusedResidual => _residual is not null;

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
        (_residual, _residualOutput, _residualTops) = (null, null, []);
        ClearConcatFusion();
    }
}
