using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

// Vector gathers d[i] = s[i·stride] for the rows of a strided im2col (stride 3..8; stride 2 is GatherEven). CaffeNet's
// conv1 (11×11 stride 4) spent most of its im2col in the scalar loop. Which instructions: a scratch harness timing the
// chunked im2col of one 3×227×227 image, 11×11 window, on one Zen 5 core (minima of 41 runs, µs):
//   stride 4: scalar 930–1,070; the 256-bit shuffles below 190–270 (512-bit shuffles: 230); AVX-512 two-source
//             permutes 260–310; hardware gathers (VGATHERDPS ymm) 460–510;
//   stride 3: scalar 1,530–1,630; permutes 510; gathers 920–1,340.   strides 5–8: permutes ≤ gathers < scalar.
// .NET has no 512-bit gather intrinsic; the AVX2 path uses the 256-bit one (no permute across two sources there).
// No vector here reads outside [s, s + (n−1)·stride]: every element it touches lies between two that the row needs,
// so a window ending at the image's last float is safe without an end check (unlike GatherEven's 2n-float reads).
internal static partial class Im2Col
{
    // The permute indices and lane masks of the AVX-512 gather for one stride, computed once per im2col call.
    // 16 outputs span 15·stride + 1 floats: `stride` vectors, the k-th at 16k except the last, moved back to end on the
    // last float needed (at 15·(stride − 1)). Vectors are permuted in pairs (the last alone, twice, for odd strides);
    // pair p supplies the lanes whose offset i·stride is ≥ 32p, each later pair overriding the earlier ones.
    private readonly struct StridedGather512
    {
        public readonly Vector512<int> I0, I1, I2, I3;
        public readonly Vector512<float> M1, M2, M3;
        public readonly int B1, B2, B3, B4, B5, B6, B7, Pairs, Stride;

        public StridedGather512(int stride)
        {
            Stride = stride;
            Pairs = (stride + 1) / 2;
            int last = 15 * (stride - 1);
            Vector512<int> offset = Vector512<int>.Indices * stride;
            // Lanes read from the last vector: index into the pair's second half (even stride) or its first (odd).
            Vector512<int> lastIndex = offset + Vector512.Create((stride % 2 == 0 ? 16 : 0) - last);
            Vector512<int> inLast = Vector512.GreaterThanOrEqual(offset, Vector512.Create(16 * (stride - 1)));
            I0 = Vector512.ConditionalSelect(inLast, lastIndex, offset);
            I1 = Vector512.ConditionalSelect(inLast, lastIndex, offset - Vector512.Create(32));
            I2 = Vector512.ConditionalSelect(inLast, lastIndex, offset - Vector512.Create(64));
            I3 = Vector512.ConditionalSelect(inLast, lastIndex, offset - Vector512.Create(96));
            M1 = Vector512.GreaterThanOrEqual(offset, Vector512.Create(32)).AsSingle();
            M2 = Vector512.GreaterThanOrEqual(offset, Vector512.Create(64)).AsSingle();
            M3 = Vector512.GreaterThanOrEqual(offset, Vector512.Create(96)).AsSingle();
            // Start of vector k: 16k, or `last` for k ≥ stride − 1 (an odd stride's last pair loads the last vector twice).
            B1 = Math.Min(16, last);
            B2 = Math.Min(32, last);
            B3 = Math.Min(48, last);
            B4 = Math.Min(64, last);
            B5 = Math.Min(80, last);
            B6 = Math.Min(96, last);
            B7 = Math.Min(112, last);
        }

        public static bool Applies(int stride) => Avx512F.IsSupported && stride is >= 3 and <= 8 and not 4;
    }

    // d[i] = s[i·stride] for i in [0, n) as far as whole vectors go, returning how far (the caller does the rest).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int GatherStrided(float* d, float* s, int n, int stride, in StridedGather512 table)
    {
        if (stride == 4 && Avx2.IsSupported && n >= 8)
        {
            return GatherStride4(d, s, n);
        }
        if (n >= 16 && table.Stride == stride && StridedGather512.Applies(stride))
        {
            return GatherPermute512(d, s, n, table);
        }
        if (Avx2.IsSupported && n >= 8 && stride is >= 3 and <= 8)
        {
            return GatherHardware256(d, s, n, stride);
        }
        return 0;
    }

    // Stride 4, 8 outputs from 29 floats in four 256-bit loads (the last at 21, ending on x28). Per 128-bit lane, the
    // first shuffles take element 0 of each source lane ([x0 x0 x8 x8 | x4 x4 x12 x12], [x16 x16 x24 x24 | x20 x20 x28 x28]
    // where x24, x28 are element 3 of the load at 21), the third keeps [x0 x8 x16 x24 | x4 x12 x20 x28], a permute orders it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int GatherStride4(float* d, float* s, int n)
    {
        Vector256<int> order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        for (int i = 0; ; i += 8)
        {
            if (i + 8 > n)
            {
                i = n - 8;  // the last vector overlaps the one before
            }
            float* src = s + (4 * (nint)i);
            Vector256<float> low = Avx.Shuffle(Vector256.Load(src), Vector256.Load(src + 8), 0);
            Vector256<float> high = Avx.Shuffle(Vector256.Load(src + 16), Vector256.Load(src + 21), 0b11_11_00_00);
            Avx2.PermuteVar8x32(Avx.Shuffle(low, high, 0b10_00_10_00), order).Store(d + i);
            if (i + 8 == n)
            {
                return n;
            }
        }
    }

    // Strides 3, 5..8 on AVX-512: two-source permutes of vector pairs merged by lane masks (see StridedGather512).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int GatherPermute512(float* d, float* s, int n, in StridedGather512 table)
    {
        // Locals, so the loops keep them in registers (the stores through d could alias the table otherwise).
        Vector512<int> i0 = table.I0, i1 = table.I1, i2 = table.I2, i3 = table.I3;
        Vector512<float> m1 = table.M1, m2 = table.M2, m3 = table.M3;
        int b1 = table.B1, b2 = table.B2, b3 = table.B3, b4 = table.B4, b5 = table.B5, b6 = table.B6, b7 = table.B7;
        int stride = table.Stride, pairs = table.Pairs;
        for (int i = 0; ; i += 16)
        {
            if (i + 16 > n)
            {
                i = n - 16;
            }
            float* src = s + ((nint)i * stride);
            Vector512<float> r = Avx512F.PermuteVar16x32x2(Vector512.Load(src), i0, Vector512.Load(src + b1));
            r = Vector512.ConditionalSelect(m1, Avx512F.PermuteVar16x32x2(Vector512.Load(src + b2), i1, Vector512.Load(src + b3)), r);
            if (pairs > 2)
            {
                r = Vector512.ConditionalSelect(m2, Avx512F.PermuteVar16x32x2(Vector512.Load(src + b4), i2, Vector512.Load(src + b5)), r);
                if (pairs > 3)
                {
                    r = Vector512.ConditionalSelect(m3, Avx512F.PermuteVar16x32x2(Vector512.Load(src + b6), i3, Vector512.Load(src + b7)), r);
                }
            }
            r.Store(d + i);
            if (i + 16 == n)
            {
                return n;
            }
        }
    }

    // Strides 3, 5..8 without AVX-512: hardware gathers (on Zen 5 slower than permutes but faster than the scalar loop).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int GatherHardware256(float* d, float* s, int n, int stride)
    {
        Vector256<int> offsets = Vector256<int>.Indices * stride;
        for (int i = 0; ; i += 8)
        {
            if (i + 8 > n)
            {
                i = n - 8;
            }
            Avx2.GatherVector256(s + ((nint)i * stride), offsets, 4).Store(d + i);
            if (i + 8 == n)
            {
                return n;
            }
        }
    }
}
