using System.Numerics.Tensors;
using Crema.Kernels;

namespace Crema.Layers;

// Scheduling for ConvolutionLayerBase: images split into parts run on the worker pool, each part with its own column
// buffer and (for parts > 0) its own gradient accumulators, reduced in part order so runs are bit-identical.
public abstract partial class ConvolutionLayerBase
{
    // Column buffers (one group of one image, per running part) and Convolution's per-part transposed weight-gradient
    // accumulators ((group, kernel dim, out channels / group), see WeightGemmTransposed) come from ScratchPool while the
    // layer runs; per part > 0, Deconvolution's weight and every layer's bias accumulators are the layer's own. Parts are
    // reduced in part order.
    private int _colCount;
    private int _parts;
    // Parts of the running Forward/Backward's image loop: with one, a chunked forward GEMM shares its chunks among the threads.
    private int _imageParts;
    private float[][] _weightDiffT = [];
    // Wᵀ per group, (group, kernel dim, out channels / group), while BackwardGemm may run (Convolution's backward,
    // Deconvolution's forward), for small weights only: a plain GEMM on it beats one that packs the transposed weights
    // again for every small image (LeNet conv2's bottom gradient: 215 -> 257 GFLOP/s); big layers' GEMMs amortise the
    // packing and would pay in memory.
    private float[]? _weightsT;
    private float[][] _weightDiffParts = [];
    private float[][] _biasDiffParts = [];
    /// <summary>
    /// Above this many weights the transposed copies above are not worth their memory (CaffeNet conv2–5: 7 MiB at peak).
    /// Settable so tests can take either path on small layers.
    /// </summary>
    internal int SmallWeights { get; set; } = 1 << 18;

    // Sizes the per-part state for this Reshape: colCount floats of column buffer per part (0 for 1×1 kernels).
    private void ReshapeParts(int colCount)
    {
        _colCount = colCount;
        _parts = Math.Max(1, Math.Min(WorkerPool.Threads, Num));
        if (_weightDiffT.Length < _parts)
        {
            Array.Resize(ref _weightDiffT, _parts);
            Array.Resize(ref _weightDiffParts, _parts);
            Array.Resize(ref _biasDiffParts, _parts);
        }
        for (int t = 1; t < _parts; t++)
        {
            _biasDiffParts[t] ??= new float[_numOutput];
        }
    }

    // Images split into equal contiguous runs, one per thread, when that keeps the threads evenly loaded; otherwise one
    // part, whose GEMMs use the threads themselves (batch 1, or 3 images on 2 threads).
    private int ImageParts()
    {
        int parts = Math.Min(_parts, Math.Min(WorkerPool.Threads, Num));
        return parts > 1 && (Num % parts == 0 || Num >= 4 * parts) ? parts : 1;
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (ReverseDimensions)
        {
            TransposeWeights();
        }
        _work.Set(bottom, top, null);
        _imageParts = ImageParts();
        for (int i = 0; i < bottom.Count; i++)
        {
            _work.Index = i;
            WorkerPool.Run(_imageParts, _work);
        }
        _work.Set(null, null, null);
        ReleaseTransposedWeights();
    }

    private void TransposeWeights()
    {
        if (Blobs[0].Count > SmallWeights)
        {
            return;
        }
        int m = _convOutChannels / _group, size = m * _kernelDim;
        _weightsT = ScratchPool.Shared.Rent(Blobs[0].Count);
        var w = Blobs[0].Data;
        for (int g = 0; g < _group; g++)
        {
            var wT = _weightsT.AsSpan(g * size, size);
            wT.Clear();
            Transpose.AddTransposed(w.Slice(g * size, size), m, _kernelDim, wT);
        }
    }

    private void ReleaseTransposedWeights()
    {
        if (_weightsT is not null)
        {
            ScratchPool.Shared.Return(_weightsT);
            _weightsT = null;
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        int parts = _imageParts = ImageParts();
        bool weightGrad = ShouldComputeParamGradient(0);
        bool biasGrad = _biasTerm && ShouldComputeParamGradient(1);
        int weights = Blobs[0].Count;
        // Convolution with small weights accumulates every part's weight gradient transposed (see WeightGemmTransposed);
        // otherwise part 0 adds into the diff itself and parts > 0 into their own accumulators.
        bool transposed = TransposedWeightGradient = weightGrad && !ReverseDimensions && weights <= SmallWeights;
        for (int t = 0; t < parts; t++)
        {
            if (transposed)
            {
                _weightDiffT[t] = ScratchPool.Shared.Rent(weights);
                _weightDiffT[t].AsSpan(0, weights).Clear();
            }
            else if (weightGrad && t > 0)
            {
                _weightDiffParts[t] = ScratchPool.Shared.Rent(weights);
                _weightDiffParts[t].AsSpan(0, weights).Clear();
            }
            if (t > 0)
            {
                _biasDiffParts[t].AsSpan().Clear();
            }
        }
        if (!ReverseDimensions && propagateDown.Contains(true))
        {
            TransposeWeights();
        }
        _work.Set(top, bottom, propagateDown);
        for (int i = 0; i < top.Count; i++)
        {
            _work.Index = i;
            WorkerPool.Run(parts, _work);
        }
        _work.Set(null, null, null);
        ReleaseTransposedWeights();
        // Fixed reduction order (part 0, 1, …) whatever thread finished first: bit-identical runs.
        if (transposed)
        {
            int m = _convOutChannels / _group;
            for (int t = 0; t < parts; t++)
            {
                for (int g = 0; g < _group; g++)
                {
                    int offset = g * m * _kernelDim;
                    Transpose.AddTransposed(_weightDiffT[t].AsSpan(offset, m * _kernelDim), _kernelDim, m, Blobs[0].Diff.Slice(offset, m * _kernelDim));
                }
                ScratchPool.Shared.Return(_weightDiffT[t]);
                _weightDiffT[t] = null!;
            }
        }
        for (int t = 1; t < parts; t++)
        {
            if (weightGrad && !transposed)
            {
                var dw = Blobs[0].Diff;
                TensorPrimitives.Add(dw, _weightDiffParts[t].AsSpan(0, weights), dw);
                ScratchPool.Shared.Return(_weightDiffParts[t]);
                _weightDiffParts[t] = null!;
            }
            if (biasGrad)
            {
                var db = Blobs[1].Diff;
                TensorPrimitives.Add(db, _biasDiffParts[t], db);
            }
        }
    }

    // The per-part body of Forward/Backward, allocated once per layer (no closure per call).
    private sealed class ImageWork(ConvolutionLayerBase layer) : IPartitionedWork
    {
        private IReadOnlyList<Blob>? _from, _to;
        private IReadOnlyList<bool>? _propagateDown;
        public int Index;

        public void Set(IReadOnlyList<Blob>? from, IReadOnlyList<Blob>? to, IReadOnlyList<bool>? propagateDown) =>
            (_from, _to, _propagateDown) = (from, to, propagateDown);

        public void RunPart(int part, int parts)
        {
            var (n0, n1) = WorkerPool.Slice(layer.Num, part, parts);
            float[]? colArray = layer._colCount > 0 ? ScratchPool.Shared.Rent(layer._colCount) : null;
            try
            {
                Span<float> col = colArray.AsSpan(0, layer._colCount);
                if (_propagateDown is null)
                {
                    layer.ForwardImages(_from!, _to!, Index, n0, n1, col);
                    return;
                }
                Span<float> weightDiff = layer.TransposedWeightGradient ? layer._weightDiffT[part]
                    : part == 0 ? layer.Blobs[0].Diff : layer._weightDiffParts[part];
                Span<float> biasDiff = !layer._biasTerm ? default : part == 0 ? layer.Blobs[1].Diff : layer._biasDiffParts[part];
                layer.BackwardImages(_from!, _propagateDown, _to!, Index, n0, n1, col, weightDiff, biasDiff);
            }
            finally
            {
                if (colArray is not null)
                {
                    ScratchPool.Shared.Return(colArray);
                }
            }
        }
    }
}
