using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace Crema.Kernels;

/// <summary>Clipped box sums over a window of ±half (LRN's neighbourhoods): across the planes of a stack, or within one plane.</summary>
internal static class LocalWindow
{
    /// <summary>x, y: (channels, plane); y[c] = Σ x[c'] over c' ∈ [c − half, c + half] ∩ [0, channels). x and y must not overlap.</summary>
    public static void ChannelSum(ReadOnlySpan<float> x, Span<float> y, int channels, int plane, int half) =>
        ChannelSum(x, y, channels, plane, half, 0, channels);

    /// <summary>As above for output channels [c0, c1) only: reads x's channels c0 − half … c1 − 1 + half, writes y's [c0, c1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ChannelSum(ReadOnlySpan<float> x, Span<float> y, int channels, int plane, int half, int c0, int c1)
    {
        for (int c = c0; c < c1; c++)
        {
            var target = y.Slice(c * plane, plane);
            target.Clear();
            int first = Math.Max(0, c - half), last = Math.Min(channels - 1, c + half);
            for (int j = first; j <= last; j++)
            {
                TensorPrimitives.Add(target, x.Slice(j * plane, plane), target);
            }
        }
    }

    /// <summary>
    /// x, y: (height, width); y[h, w] = Σ x over the window [h ± half] × [w ± half] clipped to the plane.
    /// Separable: row sums into <paramref name="scratch"/> (height·width), then column sums. x and y must not overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SpatialSum(ReadOnlySpan<float> x, Span<float> y, Span<float> scratch, int height, int width, int half)
    {
        for (int h = 0; h < height; h++)
        {
            var row = x.Slice(h * width, width);
            for (int w = 0; w < width; w++)
            {
                int first = Math.Max(0, w - half), last = Math.Min(width - 1, w + half);
                scratch[h * width + w] = TensorPrimitives.Sum(row.Slice(first, last - first + 1));
            }
        }
        for (int h = 0; h < height; h++)
        {
            var target = y.Slice(h * width, width);
            target.Clear();
            int first = Math.Max(0, h - half), last = Math.Min(height - 1, h + half);
            for (int j = first; j <= last; j++)
            {
                TensorPrimitives.Add(target, scratch.Slice(j * width, width), target);
            }
        }
    }
}
