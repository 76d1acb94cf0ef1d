using System.Numerics.Tensors;

namespace Crema.Kernels;

/// <summary>
/// Kernels for a per-feature operand p (length dim) broadcast over x viewed as (outer, dim, inner), as the Scale and Bias
/// layers use it: y[o, d, i] = x[o, d, i] ∘ p[d], and the reductions that give p's gradient.
/// </summary>
internal static class AxisBroadcast
{
    /// <summary>y[o, d, i] = x[o, d, i] · p[d]; x and y may be the same memory.</summary>
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> p, Span<float> y, int outer, int dim, int inner)
    {
        for (int o = 0, row = 0; o < outer; o++)
        {
            for (int d = 0; d < dim; d++, row += inner)
            {
                TensorPrimitives.Multiply(x.Slice(row, inner), p[d], y.Slice(row, inner));
            }
        }
    }

    /// <summary>y[o, d, i] = x[o, d, i] + p[d]; x and y may be the same memory.</summary>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> p, Span<float> y, int outer, int dim, int inner)
    {
        for (int o = 0, row = 0; o < outer; o++)
        {
            for (int d = 0; d < dim; d++, row += inner)
            {
                TensorPrimitives.Add(x.Slice(row, inner), p[d], y.Slice(row, inner));
            }
        }
    }

    /// <summary>g[d] (+)= Σ_{o,i} a[o, d, i]; accumulates when <paramref name="accumulate"/>, else overwrites.</summary>
    public static void SumInto(ReadOnlySpan<float> a, Span<float> g, int outer, int dim, int inner, bool accumulate)
    {
        if (!accumulate)
        {
            g[..dim].Clear();
        }
        for (int o = 0, row = 0; o < outer; o++)
        {
            for (int d = 0; d < dim; d++, row += inner)
            {
                g[d] += TensorPrimitives.Sum(a.Slice(row, inner));
            }
        }
    }

    /// <summary>g[d] (+)= Σ_{o,i} a[o, d, i] · b[o, d, i]; accumulates when <paramref name="accumulate"/>, else overwrites.</summary>
    public static void DotInto(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> g, int outer, int dim, int inner, bool accumulate)
    {
        if (!accumulate)
        {
            g[..dim].Clear();
        }
        for (int o = 0, row = 0; o < outer; o++)
        {
            for (int d = 0; d < dim; d++, row += inner)
            {
                g[d] += TensorPrimitives.Dot(a.Slice(row, inner), b.Slice(row, inner));
            }
        }
    }
}
