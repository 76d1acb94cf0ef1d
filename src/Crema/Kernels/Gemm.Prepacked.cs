namespace Crema.Kernels;

/// <summary>
/// op(B) of a GEMM packed once into the register-tile slivers <see cref="Gemm"/>'s kernels read, for many products with the
/// same B (an inference net's fully connected weights): <see cref="Gemm.SgemmPacked"/> then streams it as it lies instead of
/// repacking it on every call (CaffeNet fc6 at batch 10: 151 MB packed per call). Layout: depth blocks of KC rows in order;
/// in each, the column slivers of NR columns (the last padded with zeros to the kernel's vector step), sliver s at s·NR·kc.
/// Holds op(B)'s floats once more (padded); valid only in the process that made it (the slivers follow its kernel).
/// </summary>
public sealed class PackedMatrix
{
    internal PackedMatrix(int k, int n, int paddedN, float[] data, int offset)
    {
        K = k;
        N = n;
        PaddedN = paddedN;
        Data = data;
        Offset = offset;
    }

    /// <summary>Rows of op(B) (the GEMM's depth).</summary>
    public int K { get; }

    /// <summary>Columns of op(B) (of C).</summary>
    public int N { get; }

    // Columns as packed: N rounded up to the kernel's vector step.
    internal int PaddedN { get; }

    // Pinned, so the kernels may hold a pointer; packed data starts at Offset (64-byte aligned).
    internal float[] Data { get; }

    internal int Offset { get; }
}

public static unsafe partial class Gemm
{
    /// <summary>
    /// Packs op(B) (k, n) for <see cref="SgemmPacked"/>: B stored (k, n), or (n, k) when <paramref name="transB"/> (a fully
    /// connected layer's (outputs, inputs) weights).
    /// </summary>
    public static PackedMatrix Prepack(bool transB, int k, int n, ReadOnlySpan<float> b)
    {
        ValidateGemm(0, n, k, 0, b.Length, 0);
        int nr = TileWidth(s_kind), step = StepOf(s_kind);
        int full = n / nr * nr, last = n - full;
        int paddedN = full + ((last + step - 1) / step * step);
        long floats = (long)paddedN * k;
        if (floats + 16 > Array.MaxLength)
        {
            throw new ArgumentException($"op(B) of {k}x{n} is too large to pack ({floats} floats)", nameof(b));
        }
        float[] data = GC.AllocateUninitializedArray<float>((int)floats + 16, pinned: true);
        fixed (float* pd = data)
        fixed (float* pb = b)
        {
            int offset = (int)(((64 - ((nint)pd & 63)) & 63) / sizeof(float));
            float* dst = pd + offset;
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                // Column blocks of NCB (a multiple of NR) pack into consecutive slivers of this depth block.
                for (int jc = 0; jc < n; jc += NCB)
                {
                    int nc = Math.Min(NCB, n - jc);
                    float* d = dst + ((long)pc * paddedN) + ((long)jc * kc);
                    if (transB)
                    {
                        PackBTransposed(pb + ((long)jc * k) + pc, k, kc, nc, nr, step, d);
                    }
                    else
                    {
                        PackB(pb + ((long)pc * n) + jc, n, kc, nc, nr, step, d);
                    }
                }
            }
            return new PackedMatrix(k, n, paddedN, data, offset);
        }
    }

    /// <summary>
    /// C (m, n) = op(A) · op(B) with op(B) packed by <see cref="Prepack"/>, C overwritten; A stored (m, k), or (k, m) when
    /// <paramref name="transA"/> (a 1×1 convolution's input image, (channels, positions), read as positions × channels). Same
    /// kernels, summation order and threading as <see cref="Sgemm"/>: bit-identical to it wherever it takes its blocked path
    /// (not its dot-product path for tiny transposed products).
    /// </summary>
    public static void SgemmPacked(bool transA, int m, ReadOnlySpan<float> a, PackedMatrix b, Span<float> c)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.N, k = b.K;
        ValidateGemm(m, n, k, a.Length, int.MaxValue, c.Length);
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            c[..(m * n)].Clear();
            return;
        }
        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* pp = b.Data)
        {
            var args = new GemmArgs
            {
                TransA = transA, M = m, N = n, K = k, Ldc = n, Alpha = 1f, Beta = 0f, A = pa, B = null, C = pc, Kind = s_kind,
                Packed = pp + b.Offset, PackedN = b.PaddedN,
            };
            RunThreaded(&args);
        }
    }

    /// <summary>Floats per vector of this process's micro-kernel (16, 8 or 4): C's columns are computed in whole vectors.</summary>
    internal static int VectorStep => StepOf(s_kind);

    private static int StepOf(KernelKind kind) => kind switch
    {
        KernelKind.V512 => Kernel512.Step,
        KernelKind.V256 => Kernel256.Step,
        _ => KernelPortable.Step,
    };
}
