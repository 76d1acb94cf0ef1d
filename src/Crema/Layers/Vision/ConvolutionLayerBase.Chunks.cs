using Crema.Kernels;

namespace Crema.Layers;

// Forward of one image in chunks of output rows: im2col of a chunk into a cache-sized column buffer, then its GEMM
// straight into the chunk's columns of the output. The full column matrix of a first layer is megabytes (SqueezeNet
// conv1: 147 × 12,321 floats, 7 MiB) and went through memory twice; a chunk stays in L2 between im2col and GEMM.
// When the image is the only part running (batch 1), the chunks are shared among the worker threads, so im2col runs
// on every core too instead of on the caller alone.
public abstract partial class ConvolutionLayerBase
{
    // Column floats per chunk: 64 Ki floats (256 KiB) leave room in a 1 MiB L2 for the weights' slivers and the output.
    private const int ChunkFloats = 1 << 16;
    private ChunkWork? _chunkWork;

    // At least this many output positions per chunk: narrower GEMMs waste their 64-wide register tiles and read the
    // weights once per chunk (CaffeNet conv3, K = 2304, would get 26-column chunks: 1.6 -> 2.4 ms).
    private const int MinChunkColumns = 192;

    // Output rows per chunk, or 0 when the image is computed whole (1×1 kernels, N-D, or columns that fit one chunk);
    // sharingThreads: how many threads share the chunks (batch 1), 1 when each image runs on one thread.
    internal int ChunkRows(int sharingThreads)
    {
        if (_geometry.Is1x1 || !_geometry.Is2D || _kernelDim * _convOutSpatialDim <= ChunkFloats)
        {
            return 0;
        }
        int outH = _convOutShape[0], outW = _convOutShape[1];
        int rows = Math.Max((MinChunkColumns + outW - 1) / outW, ChunkFloats / (_kernelDim * outW));
        if (rows >= outH)
        {
            return 0;
        }
        // At batch 1 the chunks are shared among the threads, each chunk's GEMM on one thread: a few uneven chunks leave
        // a thread idle (SqueezeNet conv10, 1×1 with pad 1 on 13×13: chunks of 13 and 2 rows, 2.1 ms; whole, 0.9 ms).
        // Fewer than two chunks per thread: the whole image, whose GEMM splits evenly; otherwise a multiple of the thread
        // count of near-equal chunks.
        int threads = sharingThreads;
        if (threads > 1)
        {
            int chunks = (outH + rows - 1) / rows;
            if (chunks < 2 * threads)
            {
                return 0;
            }
            chunks = (chunks + threads - 1) / threads * threads;
            rows = (outH + chunks - 1) / chunks;
        }
        return rows;
    }

    // output = W · im2col(input) for one image, chunk by chunk (see above); col holds one chunk at least.
    private unsafe void ForwardGemmChunked(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output, Span<float> col, int rowsPerChunk,
        GemmEpilogue epilogue)
    {
        int chunks = (_convOutShape[0] + rowsPerChunk - 1) / rowsPerChunk;
        int parts = _imageParts == 1 ? Math.Min(WorkerPool.Threads, chunks) : 1;
        if (parts <= 1)
        {
            // On this thread only. With images in parallel parts, several threads are here at once: the layer's one
            // ChunkWork is for the single part whose chunks the threads share.
            ForwardChunks(input, weights, output, rowsPerChunk, 0, chunks, col, epilogue);
            return;
        }
        fixed (float* pin = input)
        fixed (float* pw = weights)
        fixed (float* pout = output)
        {
            var work = _chunkWork ??= new ChunkWork(this);
            work.Set(pin, input.Length, pw, weights.Length, pout, output.Length, rowsPerChunk, chunks, epilogue);
            WorkerPool.Run(parts, work);
            work.Set(null, 0, null, 0, null, 0, 0, 0, default);
        }
    }

    // Chunks [c0, c1) of the current image, every group, with the given column buffer.
    private void ForwardChunks(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output, int rowsPerChunk, int c0, int c1, Span<float> col,
        GemmEpilogue epilogue)
    {
        int outH = _convOutShape[0], outW = _convOutShape[1];
        int m = _convOutChannels / _group;
        int inGroup = input.Length / _group, channels = _convInChannels / _group;
        for (int chunk = c0; chunk < c1; chunk++)
        {
            int r0 = chunk * rowsPerChunk, r1 = Math.Min(outH, r0 + rowsPerChunk);
            int width = (r1 - r0) * outW;
            var chunkCol = col[..(_kernelDim * width)];
            for (int g = 0; g < _group; g++)
            {
                _geometry.Im2ColRowsInto(input.Slice(g * inGroup, inGroup), channels, _convInShape, r0, r1, chunkCol);
                // Rows of this group's output, from column r0·outW on, _convOutSpatialDim apart.
                var target = output[((g * m * _convOutSpatialDim) + (r0 * outW))..];
                Gemm.SgemmIntoColumns(m, width, _kernelDim, weights.Slice(g * m * _kernelDim, m * _kernelDim), chunkCol, target, _convOutSpatialDim,
                    epilogue.FromRow(g * m));
            }
        }
    }

    // The chunks of one image shared among the worker threads (pointers: the spans live on the caller's stack, which
    // WorkerPool.Run does not leave before every part is done).
    private sealed unsafe class ChunkWork(ConvolutionLayerBase layer) : IPartitionedWork
    {
        private float* _input, _weights, _output;
        private int _inputLength, _weightsLength, _outputLength, _rowsPerChunk, _chunks;
        private GemmEpilogue _epilogue;

        public void Set(float* input, int inputLength, float* weights, int weightsLength, float* output, int outputLength, int rowsPerChunk, int chunks,
            GemmEpilogue epilogue)
        {
            _epilogue = epilogue;
            _input = input;
            _weights = weights;
            _output = output;
            (_inputLength, _weightsLength, _outputLength, _rowsPerChunk, _chunks) = (inputLength, weightsLength, outputLength, rowsPerChunk, chunks);
        }

        private void RunChunks(int c0, int c1, Span<float> col) =>
            layer.ForwardChunks(new ReadOnlySpan<float>(_input, _inputLength), new ReadOnlySpan<float>(_weights, _weightsLength),
                new Span<float>(_output, _outputLength), _rowsPerChunk, c0, c1, col, _epilogue);

        public void RunPart(int part, int parts)
        {
            var (c0, c1) = WorkerPool.Slice(_chunks, part, parts);
            int floats = layer._kernelDim * _rowsPerChunk * layer._convOutShape[1];
            float[] col = ScratchPool.Shared.Rent(floats);
            try
            {
                RunChunks(c0, c1, col.AsSpan(0, floats));
            }
            finally
            {
                ScratchPool.Shared.Return(col);
            }
        }
    }
}
