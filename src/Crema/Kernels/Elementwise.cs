using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Crema.Kernels;

/// <summary>An element-wise function of one input, with a scalar and a SIMD form that must agree.</summary>
public interface IUnaryOperator
{
    float Invoke(float x);

    Vector<float> Invoke(Vector<float> x);
}

/// <summary>An element-wise function of two inputs (e.g. a forward value and an upstream gradient).</summary>
public interface IBinaryOperator
{
    float Invoke(float a, float b);

    Vector<float> Invoke(Vector<float> a, Vector<float> b);
}

/// <summary>An element-wise function of three inputs.</summary>
public interface ITernaryOperator
{
    float Invoke(float a, float b, float c);

    Vector<float> Invoke(Vector<float> a, Vector<float> b, Vector<float> c);
}

/// <summary>
/// Drivers that run a struct operator over spans: <see cref="Vector{T}"/> blocks, then a scalar tail.
/// The operator is a struct type argument, so the JIT specialises and inlines it (no interface call per element).
/// Inputs may be the very same memory as the output (in-place neuron layers): each element is read before it is written.
/// </summary>
public static class Elementwise
{
    // y[i] = op(x[i])
    public static void Map<TOp>(in TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnaryOperator
    {
        CheckLength(x.Length, y.Length);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - w; i += w)
            {
                var v = Vector.LoadUnsafe(ref xr, (nuint)i);
                op.Invoke(v).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref xr, i));
        }
    }

    // y[i] = op(a[i], b[i])
    public static void Map<TOp>(in TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinaryOperator
    {
        CheckLength(a.Length, y.Length);
        CheckLength(b.Length, y.Length);
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - w; i += w)
            {
                var va = Vector.LoadUnsafe(ref ar, (nuint)i);
                var vb = Vector.LoadUnsafe(ref br, (nuint)i);
                op.Invoke(va, vb).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref ar, i), Unsafe.Add(ref br, i));
        }
    }

    // y[i] = op(a[i], b[i], c[i])
    public static void Map<TOp>(in TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
        where TOp : struct, ITernaryOperator
    {
        CheckLength(a.Length, y.Length);
        CheckLength(b.Length, y.Length);
        CheckLength(c.Length, y.Length);
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(c);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - w; i += w)
            {
                var va = Vector.LoadUnsafe(ref ar, (nuint)i);
                var vb = Vector.LoadUnsafe(ref br, (nuint)i);
                var vc = Vector.LoadUnsafe(ref cr, (nuint)i);
                op.Invoke(va, vb, vc).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref ar, i), Unsafe.Add(ref br, i), Unsafe.Add(ref cr, i));
        }
    }

    private static void CheckLength(int input, int output)
    {
        if (input != output)
        {
            throw new ArgumentException($"element-wise kernel: input length {input} differs from output length {output}");
        }
    }
}
