using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Crema.Kernels;

/// <summary>An element-wise function of one input, with a scalar and a SIMD form that must agree.</summary>
internal interface IUnaryOperator
{
    float Invoke(float x);

    Vector<float> Invoke(Vector<float> x);
}

/// <summary>An element-wise function of two inputs (e.g. a forward value and an upstream gradient).</summary>
internal interface IBinaryOperator
{
    float Invoke(float a, float b);

    Vector<float> Invoke(Vector<float> a, Vector<float> b);
}

/// <summary>An element-wise function of three inputs.</summary>
internal interface ITernaryOperator
{
    float Invoke(float a, float b, float c);

    Vector<float> Invoke(Vector<float> a, Vector<float> b, Vector<float> c);
}

/// <summary>
/// Drivers that run a struct operator over spans: <see cref="Vector{T}"/> blocks, then a scalar tail.
/// The operator is a struct type argument, so the JIT specialises and inlines it (no interface call per element).
/// Inputs may be the very same memory as the output (in-place neuron layers): each element is read before it is written.
/// Spans of <see cref="ParallelMinLength"/> elements or more are cut into contiguous slices run on the <see cref="WorkerPool"/>
/// (each element is computed the same way whichever slice it falls in).
/// </summary>
internal static unsafe class Elementwise
{
    /// <summary>Below this many elements one thread streams the data faster than two can be woken.</summary>
    public const int ParallelMinLength = 1 << 19;

    // Pointers to pinned spans plus the operator; lives on the caller's stack for the duration of WorkerPool.Run.
    private struct Args<TOp>
    {
        public TOp Op;
        public float* A, B, C, Y;
        public int N, Parts;
    }

    private static int PartsFor(int n) => n < ParallelMinLength ? 1 : WorkerPool.Threads;

    private static void UnaryPart<TOp>(void* ctx, int part) where TOp : struct, IUnaryOperator
    {
        ref var a = ref Unsafe.AsRef<Args<TOp>>(ctx);
        var (i0, i1) = WorkerPool.SliceAligned(a.N, part, a.Parts);
        MapCore(a.Op, new ReadOnlySpan<float>(a.A + i0, i1 - i0), new Span<float>(a.Y + i0, i1 - i0));
    }

    private static void BinaryPart<TOp>(void* ctx, int part) where TOp : struct, IBinaryOperator
    {
        ref var a = ref Unsafe.AsRef<Args<TOp>>(ctx);
        var (i0, i1) = WorkerPool.SliceAligned(a.N, part, a.Parts);
        MapCore(a.Op, new ReadOnlySpan<float>(a.A + i0, i1 - i0), new ReadOnlySpan<float>(a.B + i0, i1 - i0), new Span<float>(a.Y + i0, i1 - i0));
    }

    private static void TernaryPart<TOp>(void* ctx, int part) where TOp : struct, ITernaryOperator
    {
        ref var a = ref Unsafe.AsRef<Args<TOp>>(ctx);
        var (i0, i1) = WorkerPool.SliceAligned(a.N, part, a.Parts);
        MapCore(a.Op, new ReadOnlySpan<float>(a.A + i0, i1 - i0), new ReadOnlySpan<float>(a.B + i0, i1 - i0),
            new ReadOnlySpan<float>(a.C + i0, i1 - i0), new Span<float>(a.Y + i0, i1 - i0));
    }

    // y[i] = op(x[i])
    public static void Map<TOp>(in TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnaryOperator
    {
        CheckLength(x.Length, y.Length);
        int parts = PartsFor(y.Length);
        if (parts > 1)
        {
            fixed (float* px = x)
            fixed (float* py = y)
            {
                var args = new Args<TOp> { Op = op, A = px, Y = py, N = y.Length, Parts = parts };
                WorkerPool.Run(parts, &UnaryPart<TOp>, Unsafe.AsPointer(ref args));
            }
            return;
        }
        MapCore(op, x, y);
    }

    private static void MapCore<TOp>(in TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnaryOperator
    {
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
        int parts = PartsFor(y.Length);
        if (parts > 1)
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* py = y)
            {
                var args = new Args<TOp> { Op = op, A = pa, B = pb, Y = py, N = y.Length, Parts = parts };
                WorkerPool.Run(parts, &BinaryPart<TOp>, Unsafe.AsPointer(ref args));
            }
            return;
        }
        MapCore(op, a, b, y);
    }

    private static void MapCore<TOp>(in TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinaryOperator
    {
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
        int parts = PartsFor(y.Length);
        if (parts > 1)
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* pc = c)
            fixed (float* py = y)
            {
                var args = new Args<TOp> { Op = op, A = pa, B = pb, C = pc, Y = py, N = y.Length, Parts = parts };
                WorkerPool.Run(parts, &TernaryPart<TOp>, Unsafe.AsPointer(ref args));
            }
            return;
        }
        MapCore(op, a, b, c, y);
    }

    private static void MapCore<TOp>(in TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
        where TOp : struct, ITernaryOperator
    {
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
