namespace Crema.Layers;

// Inference only (Net.OptimizeForInference with InferenceBlobs.OutputsOnly): a convolution whose top only feeds a Concat
// along channels writes each image straight into its channel range of the Concat's top, so the Concat does not copy it
// (SqueezeNet's fire modules and GoogLeNet's inception modules end in one).
public abstract partial class ConvolutionLayerBase : IConcatFusionTarget
{
    private Blob? _concatOutput;
    private int _concatOffset;
    private int _concatChannels;
    private int[] _concatShape = [];

    bool IConcatFusionTarget.CanWriteIntoConcat =>
        !ReverseDimensions && _residual is null && _concatOutput is null && Geometry.ChannelAxis == 1;

    void IConcatFusionTarget.WriteIntoConcat(Blob output, int channelOffset, int totalChannels)
    {
        if (ReverseDimensions || Geometry.ChannelAxis != 1 || channelOffset < 0 || channelOffset + _numOutput > totalChannels)
        {
            throw Error($"cannot write {_numOutput} channels at {channelOffset} of a {totalChannels}-channel concatenation");
        }
        _concatOutput = output;
        _concatOffset = channelOffset;
        _concatChannels = totalChannels;
    }

    /// <summary>Whether Forward writes into a Concat's top instead of its own.</summary>
    private protected bool WritesIntoConcat => _concatOutput is not null;

    // The concatenation's top shaped as this layer's top but for the channels (the Concat, skipped, does not reshape it).
    private void ReshapeConcatOutput(Blob top)
    {
        if (_concatShape.Length != top.NumAxes)
        {
            _concatShape = new int[top.NumAxes];
        }
        for (int i = 0; i < _concatShape.Length; i++)
        {
            _concatShape[i] = top.ShapeAt(i);
        }
        _concatShape[1] = _concatChannels;
        _concatOutput!.Reshape(_concatShape);
    }

    /// <summary>Where Forward writes image <paramref name="n"/> of <paramref name="top"/>: its own image, or its channels of the concatenation's.</summary>
    private protected Span<float> OutputImage(Blob top, int n)
    {
        if (_concatOutput is null)
        {
            return top.Data.Slice(n * TopDim, TopDim);
        }
        int spatial = TopDim / _numOutput;
        return _concatOutput.Data.Slice((n * _concatChannels * spatial) + (_concatOffset * spatial), TopDim);
    }

    /// <summary>Copies every image of <paramref name="top"/> (computed in place by a path that cannot write elsewhere) into the concatenation.</summary>
    private protected void CopyIntoConcat(Blob top)
    {
        for (int n = 0; n < Num; n++)
        {
            top.Data.Slice(n * TopDim, TopDim).CopyTo(OutputImage(top, n));
        }
    }

    private void ClearConcatFusion() => _concatOutput = null;
}
