using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// The kernel/stride/pad/dilation of a <see cref="ConvolutionParameter"/> resolved per spatial axis (Caffe's rules: a value
/// given once applies to every axis; kernel_h/kernel_w style only for 2-D), shared by Convolution, Deconvolution and Im2col.
/// </summary>
internal sealed class ConvolutionGeometry
{
    private readonly Func<string, CremaException> _error;

    public ConvolutionGeometry(ConvolutionParameter p, Blob bottom, Func<string, CremaException> error)
    {
        _error = error;
        if (p.Axis < -bottom.NumAxes || p.Axis >= bottom.NumAxes)
        {
            throw error($"axis {p.Axis} out of range for bottom with {bottom.NumAxes} axes");
        }
        ChannelAxis = bottom.CanonicalAxis(p.Axis);
        NumSpatialAxes = bottom.NumAxes - ChannelAxis - 1;
        ForceNd = p.ForceNdIm2Col;
        int n = NumSpatialAxes;

        Kernel = Resolve("kernel_size", "kernel", p.KernelSize, p.HasKernelH || p.HasKernelW, p.KernelH, p.KernelW, defaultValue: -1, n, error);
        Stride = Resolve("stride", "stride", p.Stride, p.HasStrideH || p.HasStrideW, p.StrideH, p.StrideW, defaultValue: 1, n, error);
        Pad = Resolve("pad", "pad", p.Pad, p.HasPadH || p.HasPadW, p.PadH, p.PadW, defaultValue: 0, n, error);
        Dilation = Resolve("dilation", "dilation", p.Dilation, false, 0, 0, defaultValue: 1, n, error);
        for (int i = 0; i < n; i++)
        {
            if (Kernel[i] <= 0)
            {
                throw error($"kernel size must be > 0 on every spatial axis, got {Kernel[i]} on axis {ChannelAxis + 1 + i}");
            }
            if (Stride[i] <= 0)
            {
                throw error($"stride must be > 0, got {Stride[i]} on axis {ChannelAxis + 1 + i}");
            }
            if (Dilation[i] <= 0)
            {
                throw error($"dilation must be > 0, got {Dilation[i]} on axis {ChannelAxis + 1 + i}");
            }
        }
        Is1x1 = true;
        for (int i = 0; i < n; i++)
        {
            Is1x1 &= Kernel[i] == 1 && Stride[i] == 1 && Pad[i] == 0;
        }
        KernelCount = 1;
        foreach (int k in Kernel)
        {
            KernelCount *= k;
        }
    }

    public int ChannelAxis { get; }
    public int NumSpatialAxes { get; }
    public int FirstSpatialAxis => ChannelAxis + 1;
    public int[] Kernel { get; }
    public int[] Stride { get; }
    public int[] Pad { get; }
    public int[] Dilation { get; }
    public bool ForceNd { get; }

    /// <summary>All kernels 1, strides 1, pads 0: the input already is the column buffer.</summary>
    public bool Is1x1 { get; }

    /// <summary>Πkernel.</summary>
    public int KernelCount { get; }

    public int Extent(int i) => Dilation[i] * (Kernel[i] - 1) + 1;

    /// <summary>Convolution output sizes for spatial input <paramref name="input"/>; throws if a kernel does not fit.</summary>
    public void ConvolutionOutput(ReadOnlySpan<int> input, Span<int> output)
    {
        for (int i = 0; i < NumSpatialAxes; i++)
        {
            int padded = input[i] + 2 * Pad[i];
            if (Extent(i) > padded)
            {
                string what = Dilation[i] == 1 ? $"kernel {Kernel[i]}" : $"dilated kernel extent {Extent(i)}";
                throw _error($"{what} larger than padded input {padded} on axis {FirstSpatialAxis + i} (input {input[i]}, pad {Pad[i]})");
            }
            output[i] = Im2Col.OutputSize(input[i], Kernel[i], Pad[i], Stride[i], Dilation[i]);
        }
    }

    // im: (channels, imShape…) → col: (channels·Πkernel, ΠcolShape)
    public void Im2ColInto(ReadOnlySpan<float> im, int channels, ReadOnlySpan<int> imShape, ReadOnlySpan<int> colShape, Span<float> col)
    {
        if (NumSpatialAxes == 2 && !ForceNd)
        {
            Im2Col.Im2Col2D(im, Shape2D(channels, imShape), col);
        }
        else
        {
            Im2Col.Im2ColNd(im, channels, imShape, colShape, Kernel, Pad, Stride, Dilation, col);
        }
    }

    /// <summary>True when im2col runs the 2-D kernel, which can also unroll a window of output rows (<see cref="Im2ColRowsInto"/>).</summary>
    public bool Is2D => NumSpatialAxes == 2 && !ForceNd;

    /// <summary>2-D only: the columns of output rows [rowStart, rowEnd), col (channels·kernel count, rows·outW).</summary>
    public void Im2ColRowsInto(ReadOnlySpan<float> im, int channels, ReadOnlySpan<int> imShape, int rowStart, int rowEnd, Span<float> col) =>
        Im2Col.Im2Col2DRows(im, Shape2D(channels, imShape), rowStart, rowEnd, col);

    // The 2-D kernels' geometry for an image (channels, imShape[0], imShape[1]).
    private Im2ColShape Shape2D(int channels, ReadOnlySpan<int> imShape) =>
        new(channels, imShape[0], imShape[1], Kernel[0], Kernel[1], Pad[0], Pad[1], Stride[0], Stride[1], Dilation[0], Dilation[1]);

    // Adds col back into im (im is accumulated into).
    public void Col2ImInto(ReadOnlySpan<float> col, int channels, ReadOnlySpan<int> imShape, ReadOnlySpan<int> colShape, Span<float> im)
    {
        if (NumSpatialAxes == 2 && !ForceNd)
        {
            Im2Col.Col2Im2D(col, Shape2D(channels, imShape), im);
        }
        else
        {
            Im2Col.Col2ImNd(col, channels, imShape, colShape, Kernel, Pad, Stride, Dilation, im);
        }
    }

    private static int[] Resolve(string name, string shortName, IList<uint> values, bool has2D, uint h, uint w, int defaultValue, int axes,
        Func<string, CremaException> error)
    {
        var result = new int[axes];
        if (has2D)
        {
            if (axes != 2)
            {
                throw error($"{shortName}_h/{shortName}_w can only be used for 2-D convolution, this one has {axes} spatial axes");
            }
            if (values.Count > 0)
            {
                throw error($"give either {name} or {shortName}_h/{shortName}_w, not both");
            }
            result[0] = checked((int)h);
            result[1] = checked((int)w);
            return result;
        }
        if (values.Count == 0 && defaultValue < 0 && axes > 0)
        {
            throw error($"{name} must be given");
        }
        if (values.Count > 1 && values.Count != axes)
        {
            throw error($"{name} must be given once or once per spatial axis ({axes}), got {values.Count} values");
        }
        for (int i = 0; i < axes; i++)
        {
            result[i] = values.Count == 0 ? defaultValue : checked((int)values[values.Count == 1 ? 0 : i]);
        }
        return result;
    }
}
