using Crema.Kernels;
using Crema.Proto;
using PoolMethod = Crema.Proto.PoolingParameter.Types.PoolMethod;

namespace Crema.Layers;

/// <summary>
/// 2-D pooling of (N, C, H, W): y[n, c, i, j] = max / mean / sample of x over window (i·s_h − p_h, j·s_w − p_w) + [0, k);
/// pooled size = ceil (or floor) ((in + 2·pad − k) / stride) + 1. MAX may output its argmax mask (flat h·W + w) as top 1.
/// </summary>
[LayerType("Pooling")]
public sealed class PoolingLayer : Layer
{
    private PoolMethod _method;
    private bool _global;
    private bool _ceil;
    private int _kernelH, _kernelW, _strideH, _strideW, _padH, _padW;
    private PoolShape _shape;
    private int _planes;
    private int[] _mask = [];
    // False when the last MAX forward skipped the argmax mask (TEST phase): a backward recomputes it first.
    private bool _maskValid;
    private readonly int[] _topShape = new int[4];
    private readonly PlaneWork _work;

    public PoolingLayer(LayerParameter param) : base(param) => _work = new PlaneWork(this);

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Between(1, 2);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.PoolingParam ?? new PoolingParameter();
        _method = p.Pool;
        _global = p.GlobalPooling;
        _ceil = p.RoundMode == PoolingParameter.Types.RoundMode.Ceil;
        if (top.Count > 1 && _method != PoolMethod.Max)
        {
            throw Error($"only MAX pooling has a second (mask) top; pool is {_method}");
        }
        if (_global)
        {
            Check(!p.HasKernelSize && !p.HasKernelH && !p.HasKernelW, "global_pooling takes the kernel from the input; do not give kernel_size, kernel_h or kernel_w");
        }
        else
        {
            Check(!(p.HasKernelSize && (p.HasKernelH || p.HasKernelW)), "give either kernel_size or kernel_h and kernel_w, not both");
            Check(p.HasKernelSize || (p.HasKernelH && p.HasKernelW), "kernel_size, or both kernel_h and kernel_w, must be given");
            (_kernelH, _kernelW) = p.HasKernelSize ? ((int)p.KernelSize, (int)p.KernelSize) : ((int)p.KernelH, (int)p.KernelW);
            if (_kernelH <= 0 || _kernelW <= 0)
            {
                throw Error($"kernel must be > 0, got {_kernelH}x{_kernelW}");
            }
        }
        Check(!(p.HasPad && (p.HasPadH || p.HasPadW)), "give either pad or pad_h and pad_w, not both");
        Check(!(p.HasStride && (p.HasStrideH || p.HasStrideW)), "give either stride or stride_h and stride_w, not both");
        (_padH, _padW) = p.HasPadH || p.HasPadW ? ((int)p.PadH, (int)p.PadW) : ((int)p.Pad, (int)p.Pad);
        (_strideH, _strideW) = p.HasStrideH || p.HasStrideW ? ((int)p.StrideH, (int)p.StrideW) : ((int)p.Stride, (int)p.Stride);
        if (_strideH <= 0 || _strideW <= 0)
        {
            throw Error($"stride must be > 0, got {_strideH}x{_strideW}");
        }
        if (_global)
        {
            if (_padH != 0 || _padW != 0 || _strideH != 1 || _strideW != 1)
            {
                throw Error($"global_pooling needs pad 0 and stride 1, got pad {_padH}x{_padW}, stride {_strideH}x{_strideW}");
            }
        }
        else if (_padH != 0 || _padW != 0)
        {
            Check(_method != PoolMethod.Stochastic, "padding is implemented only for MAX and AVE pooling");
            if (_padH >= _kernelH || _padW >= _kernelW)
            {
                throw Error($"pad {_padH}x{_padW} must be smaller than kernel {_kernelH}x{_kernelW}");
            }
        }
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        if (b.NumAxes != 4)
        {
            throw Error($"bottom must have 4 axes (num, channels, height, width), got {b.NumAxes}");
        }
        int height = b.Height, width = b.Width;
        if (_global)
        {
            (_kernelH, _kernelW) = (height, width);
        }
        if (_kernelH > height + 2 * _padH)
        {
            throw Error($"kernel {_kernelH} larger than padded input {height + 2 * _padH} on axis 2 (input {height}, pad {_padH})");
        }
        if (_kernelW > width + 2 * _padW)
        {
            throw Error($"kernel {_kernelW} larger than padded input {width + 2 * _padW} on axis 3 (input {width}, pad {_padW})");
        }
        int pooledH = PooledSize(height, _kernelH, _padH, _strideH);
        int pooledW = PooledSize(width, _kernelW, _padW, _strideW);
        _shape = new PoolShape(height, width, pooledH, pooledW, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW);
        _planes = b.Num * b.Channels;
        (_topShape[0], _topShape[1], _topShape[2], _topShape[3]) = (b.Num, b.Channels, pooledH, pooledW);
        for (int i = 0; i < top.Count; i++)
        {
            top[i].Reshape(_topShape);
        }
        _maskValid = false;
        if (_method != PoolMethod.Ave && (WritesMask(top.Count) || _method == PoolMethod.Stochastic))
        {
            EnsureMask(top[0].Count);
        }
    }

    // MAX writes its argmax mask while training or when it is a top; at TEST time (no backward expected) it does not,
    // and a Backward that comes anyway (force_backward, saliency) recomputes it from the unchanged bottom.
    private bool WritesMask(int topCount) => _method == PoolMethod.Max && (Phase == Phase.Train || topCount > 1);

    private void EnsureMask(int count)
    {
        if (_mask.Length < count)
        {
            _mask = new int[count];
        }
    }

    private int PooledSize(int size, int kernel, int pad, int stride)
    {
        int span = size + 2 * pad - kernel;
        int pooled = (_ceil ? (span + stride - 1) / stride : span / stride) + 1;
        // The last window must start inside the image (not only in the padding).
        if (pad > 0 && (pooled - 1) * stride >= size + pad)
        {
            pooled--;
        }
        return pooled;
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0].Data;
        var y = top[0].Data;
        switch (_method)
        {
            case PoolMethod.Max:
                _maskValid = WritesMask(top.Count);
                if (_maskValid)
                {
                    EnsureMask(y.Length);
                }
                _work.Run(bottom[0], top[0], backward: false, writeMask: _maskValid);
                if (top.Count > 1)
                {
                    var topMask = top[1].Data;
                    for (int i = 0; i < y.Length; i++)
                    {
                        topMask[i] = _mask[i];
                    }
                }
                break;
            case PoolMethod.Ave:
                _work.Run(bottom[0], top[0], backward: false, writeMask: false);
                break;
            case PoolMethod.Stochastic when Phase == Phase.Train:
                EnsureMask(y.Length);
                Pooling.StochasticForwardTrain(x, _planes, _shape, y, _mask.AsSpan(0, y.Length));
                break;
            case PoolMethod.Stochastic:
                Pooling.StochasticForwardTest(x, _planes, _shape, y);
                break;
            default:
                throw Error($"unknown pool method {_method}");
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        var dy = top[0].Diff;
        var dx = bottom[0].Diff;
        if (_method == PoolMethod.Max && !_maskValid)
        {
            EnsureMask(dy.Length);
            _work.Run(bottom[0], top[0], backward: false, writeMask: true);
            _maskValid = true;
        }
        if (_method != PoolMethod.Stochastic)
        {
            _work.Run(bottom[0], top[0], backward: true, writeMask: false);
            return;
        }
        dx.Clear();
        switch (_method)
        {
            case PoolMethod.Stochastic when Phase != Phase.Train:
                Pooling.StochasticBackwardTest(bottom[0].Data, dy, _planes, _shape, dx);
                break;
            default:
                // MAX and training-time STOCHASTIC route each gradient to the input chosen in forward.
                Pooling.MaskBackward(dy, _mask.AsSpan(0, dy.Length), _planes, _shape, dx);
                break;
        }
    }

    // MAX and AVE over a contiguous run of (n, c) planes per thread; STOCHASTIC stays serial (its draws are ordered).
    private sealed class PlaneWork(PoolingLayer layer) : IPartitionedWork
    {
        // Below this many input elements per part the wake-up costs more than it saves.
        private const int MinElementsPerPart = 1 << 15;
        private Blob? _bottom, _top;
        private bool _backward, _writeMask;

        public void Run(Blob bottom, Blob top, bool backward, bool writeMask)
        {
            (_bottom, _top, _backward, _writeMask) = (bottom, top, backward, writeMask);
            int parts = WorkerPool.PartsFor(bottom.Count, MinElementsPerPart);
            WorkerPool.Run(Math.Min(parts, layer._planes), this);
            (_bottom, _top) = (null, null);
        }

        public void RunPart(int part, int parts)
        {
            var s = layer._shape;
            var (p0, p1) = WorkerPool.Slice(layer._planes, part, parts);
            int planes = p1 - p0;
            int inStart = p0 * s.PlaneIn, inCount = planes * s.PlaneIn, outStart = p0 * s.PlaneOut, outCount = planes * s.PlaneOut;
            bool max = layer._method == PoolMethod.Max;
            if (!_backward)
            {
                var x = _bottom!.Data.Slice(inStart, inCount);
                var y = _top!.Data.Slice(outStart, outCount);
                if (max)
                {
                    Pooling.MaxForward(x, planes, s, y, _writeMask ? layer._mask.AsSpan(outStart, outCount) : default);
                }
                else
                {
                    Pooling.AveForward(x, planes, s, y);
                }
                return;
            }
            var dy = _top!.Diff.Slice(outStart, outCount);
            var dx = _bottom!.Diff.Slice(inStart, inCount);
            dx.Clear();
            if (max)
            {
                Pooling.MaskBackward(dy, layer._mask.AsSpan(outStart, outCount), planes, s, dx);
            }
            else
            {
                Pooling.AveBackward(dy, planes, s, dx);
            }
        }
    }
}
