using System.Numerics.Tensors;
using Crema.Kernels;
using Crema.Proto;
using NormRegion = Crema.Proto.LRNParameter.Types.NormRegion;

namespace Crema.Layers;

/// <summary>
/// Local response normalisation of (N, C, H, W): y = x · s^−β with, ACROSS_CHANNELS, s = k + α/n · Σ x² over channels
/// c ± (n−1)/2, or, WITHIN_CHANNEL, s = 1 + α/n² · Σ x² over the n×n spatial window (clipped at the borders).
/// </summary>
[LayerType("LRN")]
public sealed class LRNLayer : Layer
{
    // Below this many elements per part a second thread costs more to wake than it saves.
    private const int MinElementsPerPart = 1 << 15;
    private int _size;
    private float _alpha, _beta, _k;
    private bool _within;
    private int _num, _channels, _height, _width;
    // s (N, C, H, W), kept from forward as Caffe's scale_; x when run in place; one plane for SpatialSum. Everything else is
    // per-part scratch from ScratchPool (s^−β is recomputed in backward, as Caffe does, rather than kept).
    private float[] _scale = [], _input = [];
    private float[][] _planes = [];
    private readonly ImageWork _work;

    public LRNLayer(LayerParameter param) : base(param) => _work = new ImageWork(this);

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.LrnParam ?? new LRNParameter();
        Check(p.LocalSize % 2 == 1, $"local_size must be odd, got {p.LocalSize}");
        _size = checked((int)p.LocalSize);
        _alpha = p.Alpha;
        _beta = p.Beta;
        // NOTE: Caffe's WITHIN_CHANNEL path builds s with a Power layer whose shift is fixed at 1, so k is ignored there.
        _within = p.NormRegion == NormRegion.WithinChannel;
        _k = _within ? 1 : p.K;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        Check(b.NumAxes == 4, $"bottom must have 4 axes (num, channels, height, width), got {b.NumAxes}");
        (_num, _channels, _height, _width) = (b.Num, b.Channels, b.Height, b.Width);
        top[0].ReshapeLike(b);
        if (_scale.Length < b.Count)
        {
            _scale = new float[b.Count];
        }
        if (b == top[0] && _input.Length < b.Count)
        {
            _input = new float[b.Count];
        }
        if (_within && (_planes.Length < WorkerPool.Threads || _planes[0].Length < _height * _width))
        {
            _planes = new float[WorkerPool.Threads][];
            for (int t = 0; t < _planes.Length; t++)
            {
                _planes[t] = new float[_height * _width];
            }
        }
    }

    // Caffe's AVE pooling with pad (n−1)/2 divides by the padded n×n window even at the borders: hence α/n² everywhere.
    private float WindowWeight => _within ? _alpha / (_size * _size) : _alpha / _size;

    // dst = Σ src over each element's window, for `images` whole images (src and dst start at an image).
    private void WindowSum(ReadOnlySpan<float> src, Span<float> dst, int images, Span<float> planeScratch)
    {
        int plane = _height * _width, image = _channels * plane, half = (_size - 1) / 2;
        for (int n = 0; n < images; n++)
        {
            if (!_within)
            {
                LocalWindow.ChannelSum(src.Slice(n * image, image), dst.Slice(n * image, image), _channels, plane, half);
                continue;
            }
            for (int c = 0; c < _channels; c++)
            {
                int offset = n * image + c * plane;
                LocalWindow.SpatialSum(src.Slice(offset, plane), dst.Slice(offset, plane), planeScratch, _height, _width, half);
            }
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) => _work.Run(bottom[0], top[0], backward: false);

    // Channels [c0, c1) of images [n0, n1), one image at a time. A part owns either a run of images (batches) or a run of
    // channels of every image (batch 1 and other batches too small to split): across channels its squares then cover
    // the window's halo (c0 − half … c1 + half), so no part reads what another writes.
    private void ForwardImages(Blob bottom, Blob top, int n0, int n1, int c0, int c1, Span<float> planeScratch)
    {
        int plane = _height * _width, image = _channels * plane;
        int half = _within ? 0 : (_size - 1) / 2;
        int lo = Math.Max(0, c0 - half), hi = Math.Min(_channels, c1 + half);
        float[] scratch = ScratchPool.Shared.Rent(image);
        var squares = scratch.AsSpan(0, image);
        var range = (c0 * plane)..(c1 * plane);
        for (int n = n0; n < n1; n++)
        {
            int start = n * image;
            ReadOnlySpan<float> x = bottom.Data.Slice(start, image);
            var scale = _scale.AsSpan(start, image);
            TensorPrimitives.Multiply(x[(lo * plane)..(hi * plane)], x[(lo * plane)..(hi * plane)], squares[(lo * plane)..(hi * plane)]);
            if (_within)
            {
                for (int c = c0; c < c1; c++)
                {
                    LocalWindow.SpatialSum(squares.Slice(c * plane, plane), scale.Slice(c * plane, plane), planeScratch, _height, _width, (_size - 1) / 2);
                }
            }
            else
            {
                LocalWindow.ChannelSum(squares, scale, _channels, plane, half, c0, c1);
            }
            Activations.Affine(scale[range], scale[range], WindowWeight, _k);
            LrnKernels.ScaleByNegativePower(x[range], scale[range], _beta, top.Data.Slice(start, image)[range]);
        }
        ScratchPool.Shared.Return(scratch);
    }

    // dx_j = dy_j·s_j^−β − 2αβ/n(²) · x_j · Σ_{i ∈ window(j)} dy_i·x_i·s_i^−β / s_i  (windows are symmetric).
    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (propagateDown[0])
        {
            _work.Run(bottom[0], top[0], backward: true);
        }
    }

    private void BackwardImages(Blob bottom, Blob top, int n0, int n1, Span<float> planeScratch)
    {
        int image = _channels * _height * _width;
        float[] scratch = ScratchPool.Shared.Rent(3 * image);
        var power = scratch.AsSpan(0, image);
        var ratio = scratch.AsSpan(image, image);
        var ratioSum = scratch.AsSpan(2 * image, image);
        for (int n = n0; n < n1; n++)
        {
            int start = n * image;
            ReadOnlySpan<float> dy = top.Diff.Slice(start, image);
            ReadOnlySpan<float> scale = _scale.AsSpan(start, image);
            LrnKernels.NegativePower(scale, _beta, power);
            ReadOnlySpan<float> x = bottom.Data.Slice(start, image);
            if (bottom == top)
            {
                // In place, x was overwritten by y = x·s^−β: recover it.
                TensorPrimitives.Divide(x, power, _input.AsSpan(start, image));
                x = _input.AsSpan(start, image);
            }
            TensorPrimitives.Multiply(dy, x, ratio);
            TensorPrimitives.Multiply(ratio, power, ratio);
            TensorPrimitives.Divide(ratio, scale, ratio);
            WindowSum(ratio, ratioSum, 1, planeScratch);
            TensorPrimitives.Multiply(ratioSum, x, ratioSum);
            // Read dy fully before writing dx, which may be the same memory.
            TensorPrimitives.Multiply(dy, power, ratio);
            TensorPrimitives.MultiplyAdd(ratioSum, -2 * _beta * WindowWeight, ratio, bottom.Diff.Slice(start, image));
        }
        ScratchPool.Shared.Return(scratch);
    }

    // Forward/backward body over runs of images, allocated once (no closure per call).
    private sealed class ImageWork(LRNLayer layer) : IPartitionedWork
    {
        private Blob? _bottom, _top;
        private bool _backward, _byChannels;

        public void Run(Blob bottom, Blob top, bool backward)
        {
            (_bottom, _top, _backward) = (bottom, top, backward);
            int parts = WorkerPool.PartsFor(bottom.Count, MinElementsPerPart);
            if (layer._within)
            {
                parts = Math.Min(parts, layer._planes.Length);
            }
            // Forward splits channels when the images alone cannot keep every thread busy (not in place: a part's window
            // reads its neighbours' input channels, which they would be overwriting).
            _byChannels = !backward && layer._num < parts && bottom != top;
            parts = Math.Min(parts, _byChannels ? layer._channels : layer._num);
            WorkerPool.Run(parts, this);
            (_bottom, _top) = (null, null);
        }

        public void RunPart(int part, int parts)
        {
            Span<float> plane = layer._within ? layer._planes[part] : default;
            if (_byChannels)
            {
                var (c0, c1) = WorkerPool.Slice(layer._channels, part, parts);
                layer.ForwardImages(_bottom!, _top!, 0, layer._num, c0, c1, plane);
                return;
            }
            var (n0, n1) = WorkerPool.Slice(layer._num, part, parts);
            if (_backward)
            {
                layer.BackwardImages(_bottom!, _top!, n0, n1, plane);
            }
            else
            {
                layer.ForwardImages(_bottom!, _top!, n0, n1, 0, layer._channels, plane);
            }
        }
    }
}
