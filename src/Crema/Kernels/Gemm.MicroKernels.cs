using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary> The register-tiled micro-kernels of <see cref="Gemm"/> (Vector512, Vector256, Vector128/scalar) and per-thread scratch. </summary>
public static unsafe partial class Gemm
{
    // ---------------------------------------------------------------- micro-kernels

    // Contract: c[r, j] (row stride ldc) = alpha·Σ_p A(r, p)·b[p*width + j] (+ beta·c[r, j] unless beta = 0)
    // for r < MR, j < width (only r < rows, j < cols when HandlesEdges). A(r, p) = a[min(r, rows-1)*rs + p*ks]:
    // rows past `rows` repeat the last valid row so in-place A is never read out of bounds (their results are
    // dropped).
    private interface IMicroKernel
    {
        static abstract int NR { get; }
        static abstract int Step { get; }
        // True when Run stores only rows < rows and columns < cols itself (masked stores), so edge tiles
        // need no scratch tile; otherwise Run writes the whole MR × width tile.
        static abstract bool HandlesEdges { get; }
        static abstract void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width, nint bs,
            float* c, nint ldc, int cols, float alpha, float beta);
    }

    private interface IConst
    {
        static abstract int Value { get; }
    }

    private readonly struct C1 : IConst
    {
        public static int Value => 1;
    }

    private readonly struct C2 : IConst
    {
        public static int Value => 2;
    }

    private readonly struct C3 : IConst
    {
        public static int Value => 3;
    }

    private readonly struct C4 : IConst
    {
        public static int Value => 4;
    }

    private readonly struct C6 : IConst
    {
        public static int Value => 6;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowPointers(float* a, nint rs, int rows,
        out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5)
    {
        a0 = a;
        a1 = rows > 1 ? a0 + rs : a0;
        a2 = rows > 2 ? a1 + rs : a1;
        a3 = rows > 3 ? a2 + rs : a2;
        a4 = rows > 4 ? a3 + rs : a3;
        a5 = rows > 5 ? a4 + rs : a4;
    }

    // 6 × (16·NV) tile, NV = 1..4 Vector512 accumulators per row (24 at most of the 32 zmm registers);
    // 4- and 2-row variants for the last row sliver.
    private readonly struct Kernel512 : IMicroKernel
    {
        public static int NR => 64;

        public static int Step => 16;

        public static bool HandlesEdges => true;

        // The dispatch on rows and width is inlined into the driver: with short depths (LeNet conv1, k = 25) a tile is
        // only ~300 cycles of arithmetic, and two extra calls per tile showed.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width, nint bs,
            float* c, nint ldc, int cols, float alpha, float beta)
        {
            // Short row slivers (the last of M) run a 2- or 4-row tile instead of computing padding rows.
            if (rows > 4)
            {
                Run<C6>(kc, a, rs, ks, rows, b, width, bs, c, ldc, cols, alpha, beta);
            }
            else if (rows > 2)
            {
                Run<C4>(kc, a, rs, ks, rows, b, width, bs, c, ldc, cols, alpha, beta);
            }
            else
            {
                Run<C2>(kc, a, rs, ks, rows, b, width, bs, c, ldc, cols, alpha, beta);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Run<TR>(int kc, float* a, nint rs, nint ks, int rows, float* b, int width, nint bs,
            float* c, nint ldc, int cols, float alpha, float beta) where TR : struct, IConst
        {
            switch (width)
            {
                case 64:
                    Tile<C4, TR>(kc, a, rs, ks, rows, b, bs, c, ldc, cols, alpha, beta);
                    break;
                case 48:
                    Tile<C3, TR>(kc, a, rs, ks, rows, b, bs, c, ldc, cols, alpha, beta);
                    break;
                case 32:
                    Tile<C2, TR>(kc, a, rs, ks, rows, b, bs, c, ldc, cols, alpha, beta);
                    break;
                default:
                    Tile<C1, TR>(kc, a, rs, ks, rows, b, bs, c, ldc, cols, alpha, beta);
                    break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        // TR.Value (2, 4 or 6) rows × TV.Value vectors; rows ≤ TR.Value are stored.
        private static void Tile<TV, TR>(int kc, float* a, nint rs, nint ks, int rows, float* b, nint bs,
            float* c, nint ldc, int cols, float alpha, float beta) where TV : struct, IConst where TR : struct, IConst
        {
            int nv = TV.Value, nr = TR.Value;
            RowPointers(a, rs, rows, out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5);
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
            Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
            Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
            Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
            Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
            nint bw = bs;
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                Vector512<float> b0 = Vector512.Load(b);
                Vector512<float> b1 = nv > 1 ? Vector512.Load(b + 16) : default;
                Vector512<float> b2 = nv > 2 ? Vector512.Load(b + 32) : default;
                Vector512<float> b3 = nv > 3 ? Vector512.Load(b + 48) : default;
                Vector512<float> x = Vector512.Create(a0[off]);
                c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
                if (nv > 1) { c01 = Vector512.FusedMultiplyAdd(x, b1, c01); }
                if (nv > 2) { c02 = Vector512.FusedMultiplyAdd(x, b2, c02); }
                if (nv > 3) { c03 = Vector512.FusedMultiplyAdd(x, b3, c03); }
                x = Vector512.Create(a1[off]);
                c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
                if (nv > 1) { c11 = Vector512.FusedMultiplyAdd(x, b1, c11); }
                if (nv > 2) { c12 = Vector512.FusedMultiplyAdd(x, b2, c12); }
                if (nv > 3) { c13 = Vector512.FusedMultiplyAdd(x, b3, c13); }
                if (nr > 2)
                {
                    x = Vector512.Create(a2[off]);
                    c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
                    if (nv > 1) { c21 = Vector512.FusedMultiplyAdd(x, b1, c21); }
                    if (nv > 2) { c22 = Vector512.FusedMultiplyAdd(x, b2, c22); }
                    if (nv > 3) { c23 = Vector512.FusedMultiplyAdd(x, b3, c23); }
                }

                if (nr > 2)
                {
                    x = Vector512.Create(a3[off]);
                    c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
                    if (nv > 1) { c31 = Vector512.FusedMultiplyAdd(x, b1, c31); }
                    if (nv > 2) { c32 = Vector512.FusedMultiplyAdd(x, b2, c32); }
                    if (nv > 3) { c33 = Vector512.FusedMultiplyAdd(x, b3, c33); }
                }

                if (nr > 4)
                {
                    x = Vector512.Create(a4[off]);
                    c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
                    if (nv > 1) { c41 = Vector512.FusedMultiplyAdd(x, b1, c41); }
                    if (nv > 2) { c42 = Vector512.FusedMultiplyAdd(x, b2, c42); }
                    if (nv > 3) { c43 = Vector512.FusedMultiplyAdd(x, b3, c43); }
                }

                if (nr > 4)
                {
                    x = Vector512.Create(a5[off]);
                    c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
                    if (nv > 1) { c51 = Vector512.FusedMultiplyAdd(x, b1, c51); }
                    if (nv > 2) { c52 = Vector512.FusedMultiplyAdd(x, b2, c52); }
                    if (nv > 3) { c53 = Vector512.FusedMultiplyAdd(x, b3, c53); }
                }

                off += ks;
                b += bw;
            }

            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(beta);
            bool read = beta != 0;
            if (rows == nr && cols == nv * 16)
            {
                StoreRow<TV>(c, c00, c01, c02, c03, va, vb, read);
                StoreRow<TV>(c + ldc, c10, c11, c12, c13, va, vb, read);
                if (nr > 2)
                {
                    StoreRow<TV>(c + (2 * ldc), c20, c21, c22, c23, va, vb, read);
                    StoreRow<TV>(c + (3 * ldc), c30, c31, c32, c33, va, vb, read);
                }

                if (nr > 4)
                {
                    StoreRow<TV>(c + (4 * ldc), c40, c41, c42, c43, va, vb, read);
                    StoreRow<TV>(c + (5 * ldc), c50, c51, c52, c53, va, vb, read);
                }

                return;
            }

            // Edge tile: rows past `rows` are dropped, the last partial vector of each row is masked.
            StoreEdgeRow<TV>(c, c00, c01, c02, c03, va, vb, read, cols);
            if (rows > 1) { StoreEdgeRow<TV>(c + ldc, c10, c11, c12, c13, va, vb, read, cols); }
            if (rows > 2) { StoreEdgeRow<TV>(c + (2 * ldc), c20, c21, c22, c23, va, vb, read, cols); }
            if (rows > 3) { StoreEdgeRow<TV>(c + (3 * ldc), c30, c31, c32, c33, va, vb, read, cols); }
            if (rows > 4) { StoreEdgeRow<TV>(c + (4 * ldc), c40, c41, c42, c43, va, vb, read, cols); }
            if (rows > 5) { StoreEdgeRow<TV>(c + (5 * ldc), c50, c51, c52, c53, va, vb, read, cols); }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow<TV>(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2,
            Vector512<float> x3, Vector512<float> va, Vector512<float> vb, bool read) where TV : struct, IConst
        {
            int nv = TV.Value;
            Store(c, x0, va, vb, read);
            if (nv > 1) { Store(c + 16, x1, va, vb, read); }
            if (nv > 2) { Store(c + 32, x2, va, vb, read); }
            if (nv > 3) { Store(c + 48, x3, va, vb, read); }
        }

        private static void StoreEdgeRow<TV>(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2,
            Vector512<float> x3, Vector512<float> va, Vector512<float> vb, bool read, int cols) where TV : struct, IConst
        {
            int nv = TV.Value;
            StoreMasked(c, x0, va, vb, read, cols);
            if (nv > 1) { StoreMasked(c + 16, x1, va, vb, read, cols - 16); }
            if (nv > 2) { StoreMasked(c + 32, x2, va, vb, read, cols - 32); }
            if (nv > 3) { StoreMasked(c + 48, x3, va, vb, read, cols - 48); }
        }

        // Same arithmetic as Store on the first `count` lanes; masked loads and stores never touch the rest.
        private static void StoreMasked(float* c, Vector512<float> acc, Vector512<float> va, Vector512<float> vb,
            bool read, int count)
        {
            if (count >= 16)
            {
                Store(c, acc, va, vb, read);
                return;
            }

            if (count <= 0)
            {
                return;
            }

            Vector512<float> mask = Vector512.GreaterThan(Vector512.Create(count), Vector512<int>.Indices).AsSingle();
            Vector512<float> v = acc * va;
            if (read)
            {
                v = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c, mask, Vector512<float>.Zero), vb, v);
            }

            Avx512F.MaskStore(c, mask, v);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector512<float> acc, Vector512<float> va, Vector512<float> vb, bool read)
        {
            Vector512<float> v = acc * va;
            if (read)
            {
                v = Vector512.FusedMultiplyAdd(Vector512.Load(c), vb, v);
            }

            Vector512.Store(v, c);
        }
    }

    // 6 × (8·NV) tile, NV = 1..2 Vector256 accumulators per row (12 of the 16 ymm registers).
    private readonly struct Kernel256 : IMicroKernel
    {
        public static int NR => 16;

        public static int Step => 8;

        public static bool HandlesEdges => false;

        public static void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width, nint bs,
            float* c, nint ldc, int cols, float alpha, float beta)
        {
            if (width == 16)
            {
                Tile<C2>(kc, a, rs, ks, rows, b, bs, c, ldc, alpha, beta);
            }
            else
            {
                Tile<C1>(kc, a, rs, ks, rows, b, bs, c, ldc, alpha, beta);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile<TV>(int kc, float* a, nint rs, nint ks, int rows, float* b, nint bs,
            float* c, nint ldc, float alpha, float beta) where TV : struct, IConst
        {
            int nv = TV.Value;
            RowPointers(a, rs, rows, out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5);
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
            nint bw = bs;
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                Vector256<float> b0 = Vector256.Load(b);
                Vector256<float> b1 = nv > 1 ? Vector256.Load(b + 8) : default;
                Vector256<float> x = Vector256.Create(a0[off]);
                c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
                if (nv > 1) { c01 = Vector256.FusedMultiplyAdd(x, b1, c01); }
                x = Vector256.Create(a1[off]);
                c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
                if (nv > 1) { c11 = Vector256.FusedMultiplyAdd(x, b1, c11); }
                x = Vector256.Create(a2[off]);
                c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
                if (nv > 1) { c21 = Vector256.FusedMultiplyAdd(x, b1, c21); }
                x = Vector256.Create(a3[off]);
                c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
                if (nv > 1) { c31 = Vector256.FusedMultiplyAdd(x, b1, c31); }
                x = Vector256.Create(a4[off]);
                c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
                if (nv > 1) { c41 = Vector256.FusedMultiplyAdd(x, b1, c41); }
                x = Vector256.Create(a5[off]);
                c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
                if (nv > 1) { c51 = Vector256.FusedMultiplyAdd(x, b1, c51); }
                off += ks;
                b += bw;
            }

            var va = Vector256.Create(alpha);
            var vb = Vector256.Create(beta);
            bool read = beta != 0;
            StoreRow<TV>(c, c00, c01, va, vb, read);
            StoreRow<TV>(c + ldc, c10, c11, va, vb, read);
            StoreRow<TV>(c + (2 * ldc), c20, c21, va, vb, read);
            StoreRow<TV>(c + (3 * ldc), c30, c31, va, vb, read);
            StoreRow<TV>(c + (4 * ldc), c40, c41, va, vb, read);
            StoreRow<TV>(c + (5 * ldc), c50, c51, va, vb, read);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow<TV>(float* c, Vector256<float> x0, Vector256<float> x1,
            Vector256<float> va, Vector256<float> vb, bool read) where TV : struct, IConst
        {
            Store(c, x0, va, vb, read);
            if (TV.Value > 1) { Store(c + 8, x1, va, vb, read); }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector256<float> acc, Vector256<float> va, Vector256<float> vb, bool read)
        {
            Vector256<float> v = acc * va;
            if (read)
            {
                v = Vector256.FusedMultiplyAdd(Vector256.Load(c), vb, v);
            }

            Vector256.Store(v, c);
        }
    }

    // 6 × 8 tile (4-column steps): Vector128 where accelerated (SSE, NEON), plain scalar otherwise.
    private readonly struct KernelPortable : IMicroKernel
    {
        public static int NR => 8;

        public static int Step => 4;

        public static bool HandlesEdges => false;

        public static void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width, nint bs,
            float* c, nint ldc, int cols, float alpha, float beta)
        {
            RowPointers(a, rs, rows, out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5);
            for (int j = 0; j < width; j += 4)
            {
                if (Vector128.IsHardwareAccelerated)
                {
                    Quad128(kc, a0, a1, a2, a3, a4, a5, ks, b + j, bs, c + j, ldc, alpha, beta);
                }
                else
                {
                    QuadScalar(kc, a0, a1, a2, a3, a4, a5, ks, b + j, bs, c + j, ldc, alpha, beta);
                }
            }
        }

        private static void Quad128(int kc, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
            nint ks, float* b, nint bw, float* c, nint ldc, float alpha, float beta)
        {
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                Vector128<float> bv = Vector128.Load(b);
                s0 += Vector128.Create(a0[off]) * bv;
                s1 += Vector128.Create(a1[off]) * bv;
                s2 += Vector128.Create(a2[off]) * bv;
                s3 += Vector128.Create(a3[off]) * bv;
                s4 += Vector128.Create(a4[off]) * bv;
                s5 += Vector128.Create(a5[off]) * bv;
                off += ks;
                b += bw;
            }

            Store4(c, s0, alpha, beta);
            Store4(c + ldc, s1, alpha, beta);
            Store4(c + (2 * ldc), s2, alpha, beta);
            Store4(c + (3 * ldc), s3, alpha, beta);
            Store4(c + (4 * ldc), s4, alpha, beta);
            Store4(c + (5 * ldc), s5, alpha, beta);
        }

        private static void Store4(float* c, Vector128<float> acc, float alpha, float beta)
        {
            for (int j = 0; j < 4; j++)
            {
                float v = alpha * acc.GetElement(j);
                c[j] = beta == 0 ? v : MathF.FusedMultiplyAdd(c[j], beta, v);
            }
        }

        private static void QuadScalar(int kc, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
            nint ks, float* b, nint bw, float* c, nint ldc, float alpha, float beta)
        {
            float* acc = stackalloc float[MR * 4];
            new Span<float>(acc, MR * 4).Clear();
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                float x0 = a0[off], x1 = a1[off], x2 = a2[off], x3 = a3[off], x4 = a4[off], x5 = a5[off];
                for (int j = 0; j < 4; j++)
                {
                    float bj = b[j];
                    acc[j] += x0 * bj;
                    acc[4 + j] += x1 * bj;
                    acc[8 + j] += x2 * bj;
                    acc[12 + j] += x3 * bj;
                    acc[16 + j] += x4 * bj;
                    acc[20 + j] += x5 * bj;
                }

                off += ks;
                b += bw;
            }

            for (int r = 0; r < MR; r++)
            {
                float* cr = c + (r * ldc);
                for (int j = 0; j < 4; j++)
                {
                    float v = alpha * acc[(r * 4) + j];
                    cr[j] = beta == 0 ? v : MathF.FusedMultiplyAdd(cr[j], beta, v);
                }
            }
        }
    }

    // ---------------------------------------------------------------- per-thread scratch

    // Packing buffers owned by one thread, 64-byte aligned, allocated on first use and freed with the thread.
    private sealed class PackBuffers
    {
        [ThreadStatic]
        private static PackBuffers? t_current;

        public static PackBuffers Current => t_current ??= new PackBuffers();

        public readonly float* A, B, Tile;

        private PackBuffers()
        {
            // +16 floats of slack: PackA's 8-wide copies may write 2 floats past a sliver.
            A = (float*)NativeMemory.AlignedAlloc((nuint)(((MC + MR) * KC) + 16) * sizeof(float), 64);
            B = (float*)NativeMemory.AlignedAlloc((nuint)(KC * (NCB + 64)) * sizeof(float), 64);
            Tile = (float*)NativeMemory.AlignedAlloc(MR * 64 * sizeof(float), 64);
        }

        ~PackBuffers()
        {
            NativeMemory.AlignedFree(A);
            NativeMemory.AlignedFree(B);
            NativeMemory.AlignedFree(Tile);
        }
    }
}
