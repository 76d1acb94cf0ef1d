using System.Runtime.CompilerServices;

namespace Crema.Kernels;

// The F(2×2, 3×3) tile transforms, over the same vector of channels as F(4×4, 3×3)'s. Matrices from Lavin & Gray (2016),
// interpolation points 0, ±1, ∞; the input and output transforms are additions only:
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   G  = [1 0 0; 1/2 1/2 1/2; 1/2 −1/2 1/2; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]
public static unsafe partial class Winograd
{
    // G for F(2×2, 3×3): (4, 3), row-major.
    private static ReadOnlySpan<double> G2 =>
    [
        1, 0, 0,
        0.5, 0.5, 0.5,
        0.5, -0.5, 0.5,
        0, 0, 1,
    ];

    /// <summary>
    /// V[ξ] for ξ = 4i + j of one input tile: (Bᵀ d B)[i, j] for every channel c in [0, cp). d[i, j, c] is at
    /// src[(i·rowStride) + (j·cp) + c] (a 4×4 window of the HWC-packed image); V[ξ, c] goes to dst[ξ·xiStride + c].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTile2<TV>(float* src, int rowStride, int cp, float* dst, int xiStride)
        where TV : unmanaged, IWinoVec<TV>
    {
        TV* t = stackalloc TV[16];
        for (int c = 0; c < cp; c += TV.Count)
        {
            // Columns: t[i, j] = (Bᵀ d)[i, j].
            for (int j = 0; j < 4; j++)
            {
                float* p = src + (j * cp) + c;
                TV z0 = TV.Load(p), z1 = TV.Load(p + rowStride), z2 = TV.Load(p + (2 * rowStride)), z3 = TV.Load(p + (3 * rowStride));
                t[j] = z0 - z2;
                t[4 + j] = z1 + z2;
                t[8 + j] = z2 - z1;
                t[12 + j] = z1 - z3;
            }
            // Rows: V[i, j] = (t B)[i, j].
            for (int i = 0; i < 4; i++)
            {
                TV* r = t + (4 * i);
                float* d = dst + (4 * i * xiStride) + c;
                TV.Store(d, r[0] - r[2]);
                TV.Store(d + xiStride, r[1] + r[2]);
                TV.Store(d + (2 * xiStride), r[2] - r[1]);
                TV.Store(d + (3 * xiStride), r[1] - r[3]);
            }
        }
    }

    /// <summary>
    /// One 2×2 output tile from its 16 products: y[i, j, k] = (Aᵀ M A)[i, j] + bias[k], then when
    /// <paramref name="activation"/> the leaky ReLU max(y, 0) + negativeSlope·min(y, 0), for every k in [0, kp).
    /// M[ξ, k] is at m[ξ·xiStride + k]; y[i, j, k] goes to dst[(i·rowStride) + (j·kp) + k].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTile2<TV>(float* m, int xiStride, int kp, float* bias, bool activation, float negativeSlope, float* dst, int rowStride)
        where TV : unmanaged, IWinoVec<TV>
    {
        TV* t = stackalloc TV[8];
        for (int k = 0; k < kp; k += TV.Count)
        {
            // Columns: t[i, j] = (Aᵀ M)[i, j], i < 2.
            int s = 4 * xiStride;
            for (int j = 0; j < 4; j++)
            {
                float* p = m + (j * xiStride) + k;
                TV z0 = TV.Load(p), z1 = TV.Load(p + s), z2 = TV.Load(p + (2 * s)), z3 = TV.Load(p + (3 * s));
                t[j] = z0 + z1 + z2;
                t[4 + j] = z1 - z2 - z3;
            }
            TV b = TV.Load(bias + k);
            for (int i = 0; i < 2; i++)
            {
                TV* r = t + (4 * i);
                TV y0 = r[0] + r[1] + r[2] + b, y1 = r[1] - r[2] - r[3] + b;
                float* d = dst + (i * rowStride) + k;
                TV.Store(d, activation ? TV.LeakyRelu(y0, negativeSlope) : y0);
                TV.Store(d + kp, activation ? TV.LeakyRelu(y1, negativeSlope) : y1);
            }
        }
    }
}
