namespace Crema.Layers;

// The roles Net.OptimizeForInference matches in a TEST net, so the Net never names a concrete layer.

/// <summary>
/// A layer whose forward here is y[n, c, …] = scale[c]·x[n, c, …] + shift[c] over channel axis 1 of a single bottom
/// (BatchNorm with global statistics, Scale with a learned scale).
/// </summary>
internal interface IChannelAffine
{
    /// <summary>The per-channel scale and shift for <paramref name="bottom"/>, or false when the layer is not such a map.</summary>
    bool TryGetChannelAffine(IReadOnlyList<Blob> bottom, out double[] scale, out double[] shift);
}

/// <summary>A layer whose forward is y = x &gt; 0 ? x : slope·x.</summary>
internal interface ILeakyRelu
{
    float NegativeSlope { get; }
}

/// <summary>
/// A layer that can take over, at inference, the work of in-place layers that follow it on its single top: a per-channel
/// affine map folded into its weights and bias, then a leaky ReLU applied in the same pass that writes its output.
/// </summary>
internal interface IInferenceFusionTarget
{
    /// <summary>Output channels (axis 1) an affine map can be folded into; 0 when this layer cannot fold one.</summary>
    int FoldableChannels { get; }

    bool CanFuseActivation { get; }

    /// <summary>Forward from now on computes scale[c]·(its own output)[c] + shift[c]; the learnable blobs stay unchanged.</summary>
    void FoldChannelAffine(double[] scale, double[] shift);

    /// <summary>Forward from now on applies y = y &gt; 0 ? y : slope·y to its output in the same pass.</summary>
    void FuseActivation(float negativeSlope);

    /// <summary>Drops every fold and fusion: Forward computes the layer's own function from its blobs again.</summary>
    void ClearInferenceFusion();
}

/// <summary>
/// A layer whose forward here is y = x₀ + x₁ over two bottoms of one shape, then its fused activation if any (an Eltwise
/// SUM with unit coefficients: a residual connection).
/// </summary>
internal interface IResidualSum
{
    bool IsUnitSumOfTwo { get; }

    /// <summary>The leaky ReLU fused into this sum, or null.</summary>
    float? FusedActivationSlope { get; }
}

/// <summary>
/// A layer that can, at inference, compute the residual sum its single top feeds: act(its own output + residual) written
/// into the sum's top, its own top left unwritten.
/// </summary>
internal interface IResidualFusionTarget
{
    /// <summary>Whether this layer, as it stands (no activation fused into it), can take a residual sum over.</summary>
    bool CanFuseResidual { get; }

    /// <summary>
    /// Forward from now on writes act(own output + <paramref name="residual"/>) into <paramref name="output"/> (reshaped like
    /// its own top) instead of its own top; act is the leaky ReLU of slope <paramref name="activationSlope"/>, or none.
    /// Undone by <see cref="IInferenceFusionTarget.ClearInferenceFusion"/>.
    /// </summary>
    void FuseResidual(Blob residual, Blob output, float? activationSlope);
}

/// <summary>A Concat that can leave, at inference, the copying of some bottoms into its top to the layers producing them.</summary>
internal interface IConcatInference
{
    /// <summary>The axis concatenated along, as of the last Reshape (canonical).</summary>
    int ConcatAxis { get; }

    /// <summary>From now on Forward does not copy bottom <paramref name="index"/>: its producer writes that part of the top.</summary>
    void LeaveBottomToProducer(int index);

    /// <summary>Forward copies every bottom again.</summary>
    void CopyEveryBottom();
}

/// <summary>A layer that can, at inference, write its single top straight into its part of a Concat's top (channel axis 1).</summary>
internal interface IConcatFusionTarget
{
    bool CanWriteIntoConcat { get; }

    /// <summary>
    /// Forward from now on writes image n into <paramref name="output"/>'s image n at channel <paramref name="channelOffset"/>
    /// (of <paramref name="totalChannels"/>), reshaping it like its own top but for the channels; its own top is left
    /// unwritten. Undone by <see cref="IInferenceFusionTarget.ClearInferenceFusion"/>.
    /// </summary>
    void WriteIntoConcat(Blob output, int channelOffset, int totalChannels);
}
