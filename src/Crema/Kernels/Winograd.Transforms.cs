using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crema.Kernels;

// The F(4×4, 3×3) tile transforms, written once over a vector of channels (TV = 16, 8, 4 or 1 lanes). Matrices from
// Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2016), interpolation points 0, ±1, ±2, ∞:
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   G  = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
public static unsafe partial class Winograd
{
    // G for F(4×4, 3×3): (6, 3), row-major.
    private static ReadOnlySpan<double> G4 =>
    [
        1 / 4.0, 0, 0,
        -1 / 6.0, -1 / 6.0, -1 / 6.0,
        -1 / 6.0, 1 / 6.0, -1 / 6.0,
        1 / 24.0, 1 / 12.0, 1 / 6.0,
        1 / 24.0, -1 / 12.0, 1 / 6.0,
        0, 0, 1,
    ];

    /// <summary>
    /// V[ξ] for ξ = 6i + j of one input tile: (Bᵀ d B)[i, j] for every channel c in [0, cp). d[i, j, c] is at
    /// src[(i·rowStride) + (j·cp) + c] (a 6×6 window of the HWC-packed image); V[ξ, c] goes to dst[ξ·xiStride + c].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTile<TV>(float* src, int rowStride, int cp, float* dst, int xiStride)
        where TV : unmanaged, IWinoVec<TV>
    {
        TV* t = stackalloc TV[36];
        TV* v = stackalloc TV[6];
        for (int c = 0; c < cp; c += TV.Count)
        {
            // Columns: t[i, j] = (Bᵀ d)[i, j].
            for (int j = 0; j < 6; j++)
            {
                float* p = src + (j * cp) + c;
                InputRows(TV.Load(p), TV.Load(p + rowStride), TV.Load(p + (2 * rowStride)), TV.Load(p + (3 * rowStride)),
                    TV.Load(p + (4 * rowStride)), TV.Load(p + (5 * rowStride)), t + j, 6);
            }
            // Rows: V[i, j] = (t B)[i, j].
            for (int i = 0; i < 6; i++)
            {
                TV* r = t + (6 * i);
                InputRows(r[0], r[1], r[2], r[3], r[4], r[5], v, 1);
                float* d = dst + (6 * i * xiStride) + c;
                for (int j = 0; j < 6; j++)
                {
                    TV.Store(d + (j * xiStride), v[j]);
                }
            }
        }
    }

    // r = Bᵀ z, written to r[0], r[step], … r[5·step].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRows<TV>(TV z0, TV z1, TV z2, TV z3, TV z4, TV z5, TV* r, int step)
        where TV : unmanaged, IWinoVec<TV>
    {
        TV a = z4 - (z2 * 4f), b = z3 - (z1 * 4f);
        TV c = z4 - z2, e = (z3 - z1) * 2f;
        r[0] = (z0 * 4f) - (z2 * 5f) + z4;
        r[step] = a + b;
        r[2 * step] = a - b;
        r[3 * step] = c + e;
        r[4 * step] = c - e;
        r[5 * step] = (z1 * 4f) - (z3 * 5f) + z5;
    }

    /// <summary>
    /// One output tile from its 36 products: y[i, j, k] = (Aᵀ M A)[i, j] + bias[k], then when <paramref name="activation"/>
    /// the leaky ReLU max(y, 0) + negativeSlope·min(y, 0)
    /// for every k in [0, kp). M[ξ, k] is at m[ξ·xiStride + k]; y[i, j, k] goes to dst[(i·rowStride) + (j·kp) + k].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTile<TV>(float* m, int xiStride, int kp, float* bias, bool activation, float negativeSlope, float* dst, int rowStride)
        where TV : unmanaged, IWinoVec<TV>
    {
        TV* t = stackalloc TV[24];
        TV* o = stackalloc TV[4];
        for (int k = 0; k < kp; k += TV.Count)
        {
            // Columns: t[i, j] = (Aᵀ M)[i, j], i < 4.
            for (int j = 0; j < 6; j++)
            {
                float* p = m + (j * xiStride) + k;
                int s = 6 * xiStride;
                OutputRows(TV.Load(p), TV.Load(p + s), TV.Load(p + (2 * s)), TV.Load(p + (3 * s)), TV.Load(p + (4 * s)),
                    TV.Load(p + (5 * s)), t + j, 6);
            }
            TV b = TV.Load(bias + k);
            for (int i = 0; i < 4; i++)
            {
                TV* r = t + (6 * i);
                OutputRows(r[0], r[1], r[2], r[3], r[4], r[5], o, 1);
                float* d = dst + (i * rowStride) + k;
                for (int j = 0; j < 4; j++)
                {
                    TV y = o[j] + b;
                    TV.Store(d + (j * kp), activation ? TV.LeakyRelu(y, negativeSlope) : y);
                }
            }
        }
    }

    // r = Aᵀ z, written to r[0], r[step], r[2·step], r[3·step].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputRows<TV>(TV z0, TV z1, TV z2, TV z3, TV z4, TV z5, TV* r, int step)
        where TV : unmanaged, IWinoVec<TV>
    {
        TV s12 = z1 + z2, d12 = z1 - z2, s34 = z3 + z4, d34 = z3 - z4;
        r[0] = z0 + s12 + s34;
        r[step] = d12 + (d34 * 2f);
        r[2 * step] = s12 + (s34 * 4f);
        r[3 * step] = d12 + (d34 * 8f) + z5;
    }
}

/// <summary>The few vector operations the tile transforms need, so one generic body serves every vector width.</summary>
internal unsafe interface IWinoVec<TSelf> where TSelf : unmanaged, IWinoVec<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Load(float* p);
    static abstract void Store(float* p, TSelf v);
    static abstract TSelf LeakyRelu(TSelf v, float negativeSlope);
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, float s);
}

internal readonly unsafe struct WinoVec512(Vector512<float> v) : IWinoVec<WinoVec512>
{
    private readonly Vector512<float> _v = v;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, WinoVec512 v) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec512 LeakyRelu(WinoVec512 v, float slope) => new(Vector512.Max(v._v, Vector512<float>.Zero) + (Vector512.Min(v._v, Vector512<float>.Zero) * slope));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec512 operator +(WinoVec512 a, WinoVec512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec512 operator -(WinoVec512 a, WinoVec512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec512 operator *(WinoVec512 a, float s) => new(a._v * s);
}

internal readonly unsafe struct WinoVec256(Vector256<float> v) : IWinoVec<WinoVec256>
{
    private readonly Vector256<float> _v = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, WinoVec256 v) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec256 LeakyRelu(WinoVec256 v, float slope) => new(Vector256.Max(v._v, Vector256<float>.Zero) + (Vector256.Min(v._v, Vector256<float>.Zero) * slope));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec256 operator +(WinoVec256 a, WinoVec256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec256 operator -(WinoVec256 a, WinoVec256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec256 operator *(WinoVec256 a, float s) => new(a._v * s);
}

internal readonly unsafe struct WinoVec128(Vector128<float> v) : IWinoVec<WinoVec128>
{
    private readonly Vector128<float> _v = v;
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec128 Load(float* p) => new(Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, WinoVec128 v) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec128 LeakyRelu(WinoVec128 v, float slope) => new(Vector128.Max(v._v, Vector128<float>.Zero) + (Vector128.Min(v._v, Vector128<float>.Zero) * slope));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec128 operator +(WinoVec128 a, WinoVec128 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec128 operator -(WinoVec128 a, WinoVec128 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoVec128 operator *(WinoVec128 a, float s) => new(a._v * s);
}

// The portable path: one lane.
internal readonly unsafe struct WinoScalar(float v) : IWinoVec<WinoScalar>
{
    private readonly float _v = v;
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoScalar Load(float* p) => new(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, WinoScalar v) => *p = v._v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoScalar LeakyRelu(WinoScalar v, float slope) => new(MathF.Max(v._v, 0f) + (MathF.Min(v._v, 0f) * slope));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoScalar operator +(WinoScalar a, WinoScalar b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoScalar operator -(WinoScalar a, WinoScalar b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static WinoScalar operator *(WinoScalar a, float s) => new(a._v * s);
}
