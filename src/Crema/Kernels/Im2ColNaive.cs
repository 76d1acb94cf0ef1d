namespace Crema.Kernels;

/// <summary>
/// The plain loops <see cref="Im2Col.Im2Col2D"/> and <see cref="Im2Col.Col2Im2D"/> must match: the tests' oracle and the
/// benchmarks' baseline.
/// </summary>
internal static class Im2ColNaive
{
    /// <summary>2-D im2col. im: (channels, height, width); col: (channels·kh·kw, outH·outW), fully overwritten.</summary>
    public static void Im2Col2D(ReadOnlySpan<float> im, in Im2ColShape shape, Span<float> col)
    {
        int channels = shape.Channels, height = shape.Height, width = shape.Width;
        int kernelH = shape.KernelH, kernelW = shape.KernelW, padH = shape.PadH, padW = shape.PadW;
        int strideH = shape.StrideH, strideW = shape.StrideW, dilationH = shape.DilationH, dilationW = shape.DilationW;
        int outH = Im2Col.OutputSize(height, kernelH, padH, strideH, dilationH);
        int outW = Im2Col.OutputSize(width, kernelW, padW, strideW, dilationW);
        int planeIn = height * width;
        int planeOut = outH * outW;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            var plane = im.Slice(c * planeIn, planeIn);
            for (int ki = 0; ki < kernelH; ki++)
            {
                for (int kj = 0; kj < kernelW; kj++, row++)
                {
                    var dst = col.Slice(row * planeOut, planeOut);
                    int x0 = kj * dilationW - padW;
                    for (int oh = 0; oh < outH; oh++)
                    {
                        int y = oh * strideH - padH + ki * dilationH;
                        var dstRow = dst.Slice(oh * outW, outW);
                        if ((uint)y >= (uint)height)
                        {
                            dstRow.Clear();
                            continue;
                        }
                        var src = plane.Slice(y * width, width);
                        if (strideW == 1 && x0 >= 0 && x0 + outW <= width)
                        {
                            src.Slice(x0, outW).CopyTo(dstRow);
                            continue;
                        }
                        for (int ow = 0, x = x0; ow < outW; ow++, x += strideW)
                        {
                            dstRow[ow] = (uint)x < (uint)width ? src[x] : 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>2-D col2im: adds every column entry back into its image position (im is accumulated into, not cleared).</summary>
    public static void Col2Im2D(ReadOnlySpan<float> col, in Im2ColShape shape, Span<float> im)
    {
        int channels = shape.Channels, height = shape.Height, width = shape.Width;
        int kernelH = shape.KernelH, kernelW = shape.KernelW, padH = shape.PadH, padW = shape.PadW;
        int strideH = shape.StrideH, strideW = shape.StrideW, dilationH = shape.DilationH, dilationW = shape.DilationW;
        int outH = Im2Col.OutputSize(height, kernelH, padH, strideH, dilationH);
        int outW = Im2Col.OutputSize(width, kernelW, padW, strideW, dilationW);
        int planeIn = height * width;
        int planeOut = outH * outW;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            var plane = im.Slice(c * planeIn, planeIn);
            for (int ki = 0; ki < kernelH; ki++)
            {
                for (int kj = 0; kj < kernelW; kj++, row++)
                {
                    var src = col.Slice(row * planeOut, planeOut);
                    int x0 = kj * dilationW - padW;
                    for (int oh = 0; oh < outH; oh++)
                    {
                        int y = oh * strideH - padH + ki * dilationH;
                        if ((uint)y >= (uint)height)
                        {
                            continue;
                        }
                        var srcRow = src.Slice(oh * outW, outW);
                        var dst = plane.Slice(y * width, width);
                        if (strideW == 1 && x0 >= 0 && x0 + outW <= width)
                        {
                            var d = dst.Slice(x0, outW);
                            System.Numerics.Tensors.TensorPrimitives.Add(d, srcRow, d);
                            continue;
                        }
                        for (int ow = 0, x = x0; ow < outW; ow++, x += strideW)
                        {
                            if ((uint)x < (uint)width)
                            {
                                dst[x] += srcRow[ow];
                            }
                        }
                    }
                }
            }
        }
    }

}
