namespace Crema.Tests.Layers;

/// <summary>Naive N-D convolution and transposed convolution loops: the oracles for the Convolution/Deconvolution tests.</summary>
internal static class ConvolutionReference
{
    /// <summary>x: (outer…, C, spatial…) with C on <paramref name="axis"/>; w: (O, C/group, k…); returns y with shape <paramref name="outShape"/>.</summary>
    public static float[] Convolve(Blob x, int axis, float[] w, float[]? bias, int numOutput, int group,
        int[] kernel, int[] pad, int[] stride, int[] dilation, out int[] outShape)
    {
        int axes = x.NumAxes - axis - 1;
        int outer = x.CountRange(0, axis);
        int channels = x.ShapeAt(axis);
        int[] inSpatial = Enumerable.Range(axis + 1, axes).Select(x.ShapeAt).ToArray();
        int[] outSpatial = new int[axes];
        for (int a = 0; a < axes; a++)
        {
            outSpatial[a] = (inSpatial[a] + 2 * pad[a] - (dilation[a] * (kernel[a] - 1) + 1)) / stride[a] + 1;
        }
        outShape = [.. x.Shape.Take(axis), numOutput, .. outSpatial];
        int inPlane = Product(inSpatial), outPlane = Product(outSpatial), kernelCount = Product(kernel);
        int cPerGroup = channels / group, oPerGroup = numOutput / group;
        var y = new float[outer * numOutput * outPlane];
        var data = x.Data.ToArray();
        var op = new int[axes];
        var kp = new int[axes];
        for (int n = 0; n < outer; n++)
        {
            for (int o = 0; o < numOutput; o++)
            {
                int g = o / oPerGroup;
                for (int p = 0; p < outPlane; p++)
                {
                    Decode(p, outSpatial, op);
                    double sum = bias?[o] ?? 0;
                    for (int cl = 0; cl < cPerGroup; cl++)
                    {
                        int c = g * cPerGroup + cl;
                        for (int kk = 0; kk < kernelCount; kk++)
                        {
                            Decode(kk, kernel, kp);
                            int offset = 0;
                            bool inside = true;
                            for (int a = 0; a < axes; a++)
                            {
                                int pos = op[a] * stride[a] - pad[a] + kp[a] * dilation[a];
                                inside &= pos >= 0 && pos < inSpatial[a];
                                offset = offset * inSpatial[a] + pos;
                            }
                            if (inside)
                            {
                                sum += (double)w[(o * cPerGroup + cl) * kernelCount + kk] * data[(n * channels + c) * inPlane + offset];
                            }
                        }
                    }
                    y[(n * numOutput + o) * outPlane + p] = (float)sum;
                }
            }
        }
        return y;
    }

    /// <summary>Transposed convolution by scattering: x: (N, C, spatial…), w: (C, O/group, k…).</summary>
    public static float[] Deconvolve(Blob x, float[] w, float[]? bias, int numOutput, int group,
        int[] kernel, int[] pad, int[] stride, int[] dilation, out int[] outShape)
    {
        int axes = x.NumAxes - 2;
        int num = x.ShapeAt(0), channels = x.ShapeAt(1);
        int[] inSpatial = x.Shape.Skip(2).ToArray();
        int[] outSpatial = new int[axes];
        for (int a = 0; a < axes; a++)
        {
            outSpatial[a] = stride[a] * (inSpatial[a] - 1) + dilation[a] * (kernel[a] - 1) + 1 - 2 * pad[a];
        }
        outShape = [num, numOutput, .. outSpatial];
        int inPlane = Product(inSpatial), outPlane = Product(outSpatial), kernelCount = Product(kernel);
        int cPerGroup = channels / group, oPerGroup = numOutput / group;
        var y = new double[num * numOutput * outPlane];
        var data = x.Data.ToArray();
        var ip = new int[axes];
        var kp = new int[axes];
        for (int n = 0; n < num; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int g = c / cPerGroup;
                for (int q = 0; q < inPlane; q++)
                {
                    Decode(q, inSpatial, ip);
                    for (int ol = 0; ol < oPerGroup; ol++)
                    {
                        int o = g * oPerGroup + ol;
                        for (int kk = 0; kk < kernelCount; kk++)
                        {
                            Decode(kk, kernel, kp);
                            int offset = 0;
                            bool inside = true;
                            for (int a = 0; a < axes; a++)
                            {
                                int pos = ip[a] * stride[a] - pad[a] + kp[a] * dilation[a];
                                inside &= pos >= 0 && pos < outSpatial[a];
                                offset = offset * outSpatial[a] + pos;
                            }
                            if (inside)
                            {
                                y[(n * numOutput + o) * outPlane + offset] +=
                                    (double)w[(c * oPerGroup + ol) * kernelCount + kk] * data[(n * channels + c) * inPlane + q];
                            }
                        }
                    }
                }
            }
            if (bias != null)
            {
                for (int o = 0; o < numOutput; o++)
                {
                    for (int p = 0; p < outPlane; p++)
                    {
                        y[(n * numOutput + o) * outPlane + p] += bias[o];
                    }
                }
            }
        }
        return y.Select(v => (float)v).ToArray();
    }

    public static int Product(int[] values) => values.Aggregate(1, (a, b) => a * b);

    private static void Decode(int index, int[] shape, int[] result)
    {
        for (int a = shape.Length - 1; a >= 0; a--)
        {
            result[a] = index % shape[a];
            index /= shape[a];
        }
    }
}
