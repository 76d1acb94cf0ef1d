using System.Numerics.Tensors;
using Crema.Fillers;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// What Convolution and Deconvolution share (Caffe's BaseConvolutionLayer): parameters, learnable blobs, shapes, and the
/// per-image GEMMs. "Conv input/output" below are the convolution's own sides: for Deconvolution they are top and bottom.
/// How images are split across threads, and the per-thread scratch and gradient accumulators, are in ConvolutionLayerBase.Parts.cs.
/// </summary>
public abstract partial class ConvolutionLayerBase : Layer
{
    private ConvolutionGeometry _geometry = null!;
    private int _numOutput;
    private int _group;
    private int _channels;
    private bool _biasTerm;
    private int _convInChannels;
    private int _convOutChannels;
    private int _kernelDim;
    private int _convOutSpatialDim;
    private int[] _convInShape = [];
    private int[] _convOutShape = [];
    private int[] _topShape = [];
    private readonly ImageWork _work;

    private protected ConvolutionLayerBase(LayerParameter param) : base(param) => _work = new ImageWork(this);

    public override BlobCount BottomCount => BlobCount.AtLeast(1);
    public override BlobCount TopCount => BlobCount.AtLeast(1);
    public override bool EqualBottomTopCount => true;

    /// <summary>During Backward: whether the weight gradient goes through <see cref="WeightGemmTransposed"/> (else <see cref="WeightGemm"/>).</summary>
    private protected bool TransposedWeightGradient { get; private set; }

    /// <summary>True for Deconvolution: the convolution runs from top to bottom.</summary>
    private protected abstract bool ReverseDimensions { get; }

    /// <summary>Top spatial sizes from bottom spatial sizes.</summary>
    private protected abstract void ComputeOutputShape(ReadOnlySpan<int> input, Span<int> output);

    private protected ConvolutionGeometry Geometry => _geometry;

    /// <summary>Images per bottom: the product of the axes before the channel axis.</summary>
    private protected int Num { get; private set; }
    private protected int BottomDim { get; private set; }
    private protected int TopDim { get; private set; }
    private protected bool BiasTerm => _biasTerm;

    /// <summary>
    /// The weights and bias Forward multiplies by: the learnable blobs, or inference-only copies with a following affine
    /// layer folded in (set by Net.OptimizeForInference while <see cref="Layer.InferenceFrozen"/>). Backward always uses the blobs.
    /// </summary>
    private protected ReadOnlySpan<float> ForwardWeights => _foldedWeights ?? Blobs[0].Data;

    /// <inheritdoc cref="ForwardWeights"/>
    private protected ReadOnlySpan<float> ForwardBias => _foldedBias ?? (_biasTerm ? Blobs[1].Data : default);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ConvolutionParam ?? new ConvolutionParameter();
        _geometry = new ConvolutionGeometry(p, bottom[0], Error);
        _channels = bottom[0].ShapeAt(_geometry.ChannelAxis);
        _numOutput = checked((int)p.NumOutput);
        _group = checked((int)p.Group);
        Check(_numOutput > 0, "num_output must be > 0");
        Check(_group > 0, "group must be > 0");
        if (_channels % _group != 0)
        {
            throw Error($"input channels {_channels} not divisible by group {_group}");
        }
        if (_numOutput % _group != 0)
        {
            throw Error($"num_output {_numOutput} not divisible by group {_group}");
        }
        (_convOutChannels, _convInChannels) = ReverseDimensions ? (_channels, _numOutput) : (_numOutput, _channels);
        _biasTerm = p.BiasTerm;

        // weights: (conv out channels, conv in channels / group, kernel…); bias: (num_output)
        int[] weightShape = [_convOutChannels, _convInChannels / _group, .. _geometry.Kernel];
        AdoptOrCreateWeights(weightShape, p.WeightFiller, _biasTerm ? [_numOutput] : null, p.BiasFiller);
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var g = _geometry;
        int axis = g.ChannelAxis;
        int spatial = g.NumSpatialAxes;
        var b0 = bottom[0];
        if (b0.NumAxes != g.FirstSpatialAxis + spatial)
        {
            throw Error($"bottom has {b0.NumAxes} axes, but the layer was set up for {g.FirstSpatialAxis + spatial}; the number of axes may not change");
        }
        if (b0.ShapeAt(axis) != _channels)
        {
            throw Error($"bottom has {b0.ShapeAt(axis)} channels on axis {axis}, the layer was set up for {_channels}");
        }
        for (int i = 1; i < bottom.Count; i++)
        {
            if (!bottom[i].ShapeEquals(b0))
            {
                throw Error($"all bottoms must have the same shape: bottom #{i} is ({string.Join(", ", bottom[i].Shape)}), bottom #0 is ({string.Join(", ", b0.Shape)})");
            }
        }
        if (_topShape.Length != b0.NumAxes)
        {
            _topShape = new int[b0.NumAxes];
            _convInShape = new int[spatial];
            _convOutShape = new int[spatial];
        }
        for (int i = 0; i < axis; i++)
        {
            _topShape[i] = b0.ShapeAt(i);
        }
        _topShape[axis] = _numOutput;
        Span<int> bottomSpatial = stackalloc int[spatial];
        for (int i = 0; i < spatial; i++)
        {
            bottomSpatial[i] = b0.ShapeAt(g.FirstSpatialAxis + i);
        }
        var topSpatial = _topShape.AsSpan(g.FirstSpatialAxis);
        ComputeOutputShape(bottomSpatial, topSpatial);
        for (int i = 0; i < top.Count; i++)
        {
            top[i].Reshape(_topShape);
        }
        // The convolution proper maps conv-in spatial shape to conv-out spatial shape.
        (ReverseDimensions ? topSpatial : bottomSpatial).CopyTo(_convInShape);
        (ReverseDimensions ? bottomSpatial : topSpatial).CopyTo(_convOutShape);

        Num = b0.CountRange(0, axis);
        BottomDim = b0.CountFrom(axis);
        TopDim = top[0].CountFrom(axis);
        _kernelDim = _convInChannels / _group * g.KernelCount;
        _convOutSpatialDim = 1;
        foreach (int d in _convOutShape)
        {
            _convOutSpatialDim *= d;
        }
        ReshapeParts(g.Is1x1 ? 0 : _kernelDim * _convOutSpatialDim);
    }

    /// <summary>Forward of images [n0, n1) of bottom/top pair <paramref name="index"/>, with the part's column buffer.</summary>
    private protected abstract void ForwardImages(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, int index, int n0, int n1, Span<float> col);

    /// <summary>
    /// Backward of images [n0, n1): parameter gradients are added into <paramref name="weightDiff"/> / <paramref name="biasDiff"/>
    /// (the blobs' diffs for part 0, private accumulators for the others).
    /// </summary>
    private protected abstract void BackwardImages(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom,
        int index, int n0, int n1, Span<float> col, Span<float> weightDiff, Span<float> biasDiff);

    // The column matrix (kernel dim, conv out spatial) of group g of one conv-input image: im2col of the group's channels
    // into colBuffer (one group's worth), or the input itself for 1×1 kernels. skipIm2Col: colBuffer already holds it.
    private protected ReadOnlySpan<float> GroupColumns(ReadOnlySpan<float> input, int g, Span<float> colBuffer, bool skipIm2Col = false)
    {
        int colCount = _kernelDim * _convOutSpatialDim;
        if (_geometry.Is1x1)
        {
            return input.Slice(g * colCount, colCount);
        }
        if (!skipIm2Col)
        {
            int inGroup = input.Length / _group;
            _geometry.Im2ColInto(input.Slice(g * inGroup, inGroup), _convInChannels / _group, _convInShape, _convOutShape, colBuffer);
        }
        return colBuffer[..colCount];
    }

    // output: (conv out channels, conv out spatial) = W · im2col(input), per group; with epilogue, then + ForwardBias and the
    // fused activation, applied by the GEMM to each tile while it is in cache (the same float operations as a pass of its own).
    // skipIm2Col: the column buffer already holds im2col(input) (single group only: it holds one group).
    // residual: with epilogue, an image added after the bias, before the activation (a fused residual sum; empty for none).
    private protected unsafe void ForwardGemm(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output, Span<float> colBuffer,
        bool skipIm2Col = false, bool epilogue = false, ReadOnlySpan<float> residual = default)
    {
        ReadOnlySpan<float> bias = epilogue ? ForwardBias : default;
        fixed (float* pbias = bias)
        fixed (float* pout = output)
        fixed (float* pres = residual)
        {
            var epi = epilogue ? new GemmEpilogue(bias.IsEmpty ? null : pbias, HasFusedActivation, FusedNegativeSlope, pout, residual.IsEmpty ? null : pres) : default;
            int rowsPerChunk = skipIm2Col ? 0 : ChunkRows(_imageParts == 1 ? WorkerPool.Threads : 1);
            if (rowsPerChunk > 0)
            {
                ForwardGemmChunked(input, weights, output, colBuffer, rowsPerChunk, epi);
                return;
            }
            int m = _convOutChannels / _group;
            int weightOffset = m * _kernelDim;
            int outputOffset = m * _convOutSpatialDim;
            for (int g = 0; g < _group; g++)
            {
                var col = GroupColumns(input, g, colBuffer, skipIm2Col && _group == 1);
                Gemm.SgemmWithEpilogue(m, _convOutSpatialDim, _kernelDim, weights.Slice(g * weightOffset, weightOffset),
                    col, output.Slice(g * outputOffset, outputOffset), epi.FromRow(g * m));
            }
        }
    }

    // input (overwritten) = col2im(Wᵀ · output), per group, with Wᵀ prepared by the caller's Forward/Backward
    private protected void BackwardGemm(ReadOnlySpan<float> output, Span<float> input, Span<float> colBuffer)
    {
        bool transposed = _weightsT is not null;
        ReadOnlySpan<float> weights = transposed ? _weightsT : Blobs[0].Data;
        int m = _convOutChannels / _group;
        int weightOffset = m * _kernelDim;
        int colCount = _kernelDim * _convOutSpatialDim;
        int outputOffset = m * _convOutSpatialDim;
        int inGroup = input.Length / _group;
        if (!_geometry.Is1x1)
        {
            input.Clear();
        }
        for (int g = 0; g < _group; g++)
        {
            Span<float> col = _geometry.Is1x1 ? input.Slice(g * colCount, colCount) : colBuffer[..colCount];
            Gemm.Sgemm(!transposed, false, _kernelDim, _convOutSpatialDim, m, 1f, weights.Slice(g * weightOffset, weightOffset),
                output.Slice(g * outputOffset, outputOffset), 0f, col);
            if (!_geometry.Is1x1)
            {
                _geometry.Col2ImInto(col, _convInChannels / _group, _convInShape, _convOutShape, input.Slice(g * inGroup, inGroup));
            }
        }
    }

    // weightDiff += outputDiff · im2col(input)ᵀ, per group (leaves the last group's im2col(input) in the column buffer)
    private protected void WeightGemm(ReadOnlySpan<float> input, ReadOnlySpan<float> outputDiff, Span<float> weightDiff, Span<float> colBuffer)
    {
        int m = _convOutChannels / _group;
        int weightOffset = m * _kernelDim;
        int outputOffset = m * _convOutSpatialDim;
        for (int g = 0; g < _group; g++)
        {
            var col = GroupColumns(input, g, colBuffer);
            Gemm.Sgemm(false, true, m, _kernelDim, _convOutSpatialDim, 1f, outputDiff.Slice(g * outputOffset, outputOffset),
                col, 1f, weightDiff.Slice(g * weightOffset, weightOffset));
        }
    }

    // weightDiffT (k, m) += im2col(input) (k, HW) · outputDiffᵀ (HW, m), per group. The transpose of WeightGemm: the wide
    // column matrix is read in place instead of being packed transposed, and the part's sums are transposed into the
    // weight diff once per backward (measured 1.1–1.7× faster on LeNet/CIFAR shapes).
    private protected void WeightGemmTransposed(ReadOnlySpan<float> input, ReadOnlySpan<float> outputDiff, Span<float> weightDiffT, Span<float> colBuffer)
    {
        int m = _convOutChannels / _group;
        int weightOffset = m * _kernelDim;
        int outputOffset = m * _convOutSpatialDim;
        for (int g = 0; g < _group; g++)
        {
            var col = GroupColumns(input, g, colBuffer);
            Gemm.Sgemm(false, true, _kernelDim, m, _convOutSpatialDim, 1f, col,
                outputDiff.Slice(g * outputOffset, outputOffset), 1f, weightDiffT.Slice(g * weightOffset, weightOffset));
        }
    }

    // top image: (num_output, out spatial) += bias per channel
    private protected void AddBias(Span<float> topImage, ReadOnlySpan<float> bias)
    {
        int spatial = TopDim / _numOutput;
        for (int o = 0; o < _numOutput; o++)
        {
            var row = topImage.Slice(o * spatial, spatial);
            TensorPrimitives.Add(row, bias[o], row);
        }
    }

    // biasDiff[o] += Σ over the image's positions of topDiff[o, ·]
    private protected void AccumulateBiasGradient(ReadOnlySpan<float> topDiffImage, Span<float> biasDiff)
    {
        int spatial = TopDim / _numOutput;
        for (int o = 0; o < _numOutput; o++)
        {
            biasDiff[o] += TensorPrimitives.Sum(topDiffImage.Slice(o * spatial, spatial));
        }
    }
}
