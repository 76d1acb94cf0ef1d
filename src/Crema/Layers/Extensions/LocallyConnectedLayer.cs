using System.Numerics.Tensors;
using Crema.Fillers;
using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Locally connected 2-D convolution (unshared weights): y[n, o, l] = b[o, l] + Σ_k W[o, 0, k, l] · im2col(x[n])[k, l],
/// a different filter for every output location l. Blob layout of Caffe PR #4251 ("Local"): W (num_output, 1, C·kh·kw, H_out·W_out),
/// b (1, 1, num_output, H_out·W_out). The weights fix the input's spatial size.
/// </summary>
[LayerType("LocallyConnected")]
[LayerType("Local")]
public sealed class LocallyConnectedLayer(LayerParameter param) : Layer(param)
{
    private ConvolutionGeometry _geometry = null!;
    private int _numOutput;
    private bool _biasTerm;
    private int _channels, _height, _width, _outH, _outW;
    private int _kernelDim; // K = C·kh·kw
    private int _locations; // L = H_out·W_out
    private float[] _col = [];
    private float[] _colDiff = [];

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ConvolutionParam ?? new ConvolutionParameter();
        var b0 = bottom[0];
        Check(b0.NumAxes == 4, $"only 2-D is supported: bottom must be (N, C, H, W), got {b0.ShapeString()}");
        Check(b0.CanonicalAxis(p.Axis) == 1, $"only axis 1 (channels) is supported, got axis {p.Axis}");
        _geometry = new ConvolutionGeometry(p, b0, Error);
        Check(_geometry.Dilation[0] == 1 && _geometry.Dilation[1] == 1,
            $"dilation must be 1, got ({_geometry.Dilation[0]}, {_geometry.Dilation[1]})");
        Check(p.Group == 1, $"group must be 1, got {p.Group}");
        _numOutput = checked((int)p.NumOutput);
        Check(_numOutput > 0, "num_output must be > 0");
        _biasTerm = p.BiasTerm;
        (_channels, _height, _width) = (b0.ShapeAt(1), b0.ShapeAt(2), b0.ShapeAt(3));
        Span<int> output = stackalloc int[2];
        _geometry.ConvolutionOutput([_height, _width], output);
        (_outH, _outW) = (output[0], output[1]);
        _kernelDim = _channels * _geometry.KernelCount;
        _locations = _outH * _outW;

        int[] weightShape = [_numOutput, 1, _kernelDim, _locations];
        int[] biasShape = [1, 1, _numOutput, _locations];
        AdoptOrCreateWeights(weightShape, p.WeightFiller, _biasTerm ? biasShape : null, p.BiasFiller, $" for input {_channels}x{_height}x{_width}");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b0 = bottom[0];
        Check(b0.NumAxes == 4, $"bottom must stay (N, C, H, W), got {b0.ShapeString()}");
        Check(b0.ShapeAt(1) == _channels && b0.ShapeAt(2) == _height && b0.ShapeAt(3) == _width,
            $"input {b0.ShapeAt(1)}x{b0.ShapeAt(2)}x{b0.ShapeAt(3)} (CxHxW) differs from the {_channels}x{_height}x{_width} the weights were created for; unshared weights fix the input size");
        top[0].Reshape(stackalloc int[] { b0.ShapeAt(0), _numOutput, _outH, _outW });
        int colCount = _kernelDim * _locations;
        if (_col.Length < colCount)
        {
            _col = new float[colCount];
            _colDiff = new float[colCount];
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        int bottomDim = _channels * _height * _width;
        int topDim = _numOutput * _locations;
        ReadOnlySpan<float> x = bottom[0].Data;
        var y = top[0].Data;
        var col = _col.AsSpan(0, _kernelDim * _locations);
        for (int n = 0; n < bottom[0].ShapeAt(0); n++)
        {
            Im2ColImage(x.Slice(n * bottomDim, bottomDim), col);
            var image = y.Slice(n * topDim, topDim);
            LocalForward(col, Blobs[0].Data, image, _numOutput, _kernelDim, _locations);
            if (_biasTerm)
            {
                TensorPrimitives.Add(image, Blobs[1].Data, image); // bias (M, L) matches the image's (M, L)
            }
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        int bottomDim = _channels * _height * _width;
        int topDim = _numOutput * _locations;
        bool weightGrad = ShouldComputeParamGradient(0);
        bool biasGrad = _biasTerm && ShouldComputeParamGradient(1);
        ReadOnlySpan<float> x = bottom[0].Data;
        ReadOnlySpan<float> dy = top[0].Diff;
        var col = _col.AsSpan(0, _kernelDim * _locations);
        var colDiff = _colDiff.AsSpan(0, _kernelDim * _locations);
        for (int n = 0; n < bottom[0].ShapeAt(0); n++)
        {
            var dyImage = dy.Slice(n * topDim, topDim);
            if (biasGrad)
            {
                TensorPrimitives.Add(Blobs[1].Diff, dyImage, Blobs[1].Diff);
            }
            if (weightGrad)
            {
                Im2ColImage(x.Slice(n * bottomDim, bottomDim), col);
                LocalWeightGradient(col, dyImage, Blobs[0].Diff, _numOutput, _kernelDim, _locations);
            }
            if (propagateDown[0])
            {
                LocalColumnGradient(Blobs[0].Data, dyImage, colDiff, _numOutput, _kernelDim, _locations);
                var dx = bottom[0].Diff.Slice(n * bottomDim, bottomDim);
                dx.Clear();
                Im2Col.Col2Im2D(colDiff, ColumnShape, dx);
            }
        }
    }

    // One image (C, H, W) with this layer's window; no dilation.
    private Im2ColShape ColumnShape => new(_channels, _height, _width, _geometry.Kernel[0], _geometry.Kernel[1],
        _geometry.Pad[0], _geometry.Pad[1], _geometry.Stride[0], _geometry.Stride[1], 1, 1);

    private void Im2ColImage(ReadOnlySpan<float> image, Span<float> col) =>
        Im2Col.Im2Col2D(image, ColumnShape, col);

    // col: (K, L), w: (M, K, L) → y: (M, L), y[o, l] = Σ_k w[o, k, l] · col[k, l]
    private static void LocalForward(ReadOnlySpan<float> col, ReadOnlySpan<float> w, Span<float> y, int m, int k, int l)
    {
        for (int o = 0; o < m; o++)
        {
            var row = y.Slice(o * l, l);
            var filters = w.Slice(o * k * l, k * l);
            TensorPrimitives.Multiply(filters[..l], col[..l], row);
            for (int j = 1; j < k; j++)
            {
                TensorPrimitives.MultiplyAdd(filters.Slice(j * l, l), col.Slice(j * l, l), row, row);
            }
        }
    }

    // dw[o, k, l] += dy[o, l] · col[k, l]
    private static void LocalWeightGradient(ReadOnlySpan<float> col, ReadOnlySpan<float> dy, Span<float> dw, int m, int k, int l)
    {
        for (int o = 0; o < m; o++)
        {
            var dyRow = dy.Slice(o * l, l);
            for (int j = 0; j < k; j++)
            {
                var target = dw.Slice((o * k + j) * l, l);
                TensorPrimitives.MultiplyAdd(dyRow, col.Slice(j * l, l), target, target);
            }
        }
    }

    // dcol[k, l] = Σ_o dy[o, l] · w[o, k, l] (overwritten)
    private static void LocalColumnGradient(ReadOnlySpan<float> w, ReadOnlySpan<float> dy, Span<float> dcol, int m, int k, int l)
    {
        dcol.Clear();
        for (int o = 0; o < m; o++)
        {
            var dyRow = dy.Slice(o * l, l);
            for (int j = 0; j < k; j++)
            {
                var target = dcol.Slice(j * l, l);
                TensorPrimitives.MultiplyAdd(dyRow, w.Slice((o * k + j) * l, l), target, target);
            }
        }
    }
}
