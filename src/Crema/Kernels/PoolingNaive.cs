namespace Crema.Kernels;

/// <summary>The plain loop <see cref="Pooling.MaxForward"/> must match: the tests' oracle and the benchmarks' baseline.</summary>
internal static class PoolingNaive
{
    /// <summary>Max over each window clipped to the image; ties keep the first in row-major order; an empty window gives −FLT_MAX and mask −1.</summary>
    public static void MaxForward(ReadOnlySpan<float> input, int planes, in PoolShape s, Span<float> output, Span<int> mask)
    {
        for (int p = 0; p < planes; p++)
        {
            var x = input.Slice(p * s.PlaneIn, s.PlaneIn);
            int o = p * s.PlaneOut;
            for (int ph = 0; ph < s.PooledHeight; ph++)
            {
                int hStart = Math.Max(ph * s.StrideH - s.PadH, 0);
                int hEnd = Math.Min(ph * s.StrideH - s.PadH + s.KernelH, s.Height);
                for (int pw = 0; pw < s.PooledWidth; pw++, o++)
                {
                    int wStart = Math.Max(pw * s.StrideW - s.PadW, 0);
                    int wEnd = Math.Min(pw * s.StrideW - s.PadW + s.KernelW, s.Width);
                    float best = float.MinValue;
                    int bestIndex = -1;
                    for (int h = hStart; h < hEnd; h++)
                    {
                        for (int w = wStart; w < wEnd; w++)
                        {
                            int i = h * s.Width + w;
                            if (x[i] > best)
                            {
                                best = x[i];
                                bestIndex = i;
                            }
                        }
                    }
                    output[o] = best;
                    mask[o] = bestIndex;
                }
            }
        }
    }

}
