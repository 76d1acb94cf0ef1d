using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Crema.Kernels;

/// <summary>
/// Shape of a 3×3, stride-1, dilation-1 convolution over NCHW floats: x (Num, Channels, Height, Width), weights
/// (OutChannels, Channels / Groups, 3, 3), y (Num, OutChannels, Height + 2·PadH − 2, Width + 2·PadW − 2), computed in
/// Tile × Tile output tiles: 4 for F(4×4, 3×3), 2 for F(2×2, 3×3).
/// </summary>
public readonly record struct WinogradShape(int Num, int Channels, int Height, int Width, int OutChannels, int Groups, int PadH, int PadW, int Tile = 4)
{
    public int OutHeight => Height + (2 * PadH) - 2;
    public int OutWidth => Width + (2 * PadW) - 2;
    internal int GroupChannels => Channels / Groups;
    internal int GroupOut => OutChannels / Groups;
    // Channels and outputs per group rounded up to 16, so every vector width divides them (the padding is zeros).
    internal int Cp => Winograd.Round16(GroupChannels);
    internal int Kp => Winograd.Round16(GroupOut);
    // Input tile side (Tile + 2) and the points ξ of a transformed tile: 36 for F(4,3), 16 for F(2,3).
    internal int Alpha => Tile + 2;
    internal int Points => Alpha * Alpha;
    internal int TilesH => (OutHeight + Tile - 1) / Tile;
    internal int TilesW => (OutWidth + Tile - 1) / Tile;
    internal int Tiles => Num * TilesH * TilesW;
    // The HWC-packed input covers every tile's Alpha × Alpha window: (Num, Tile·TilesH + 2, Tile·TilesW + 2, Cp).
    internal int PackedH => (Tile * TilesH) + 2;
    internal int PackedW => (Tile * TilesW) + 2;

    // Tiles transformed and multiplied together: V (Points, block, Cp) and M (Points, block, Kp) together about 4 MiB, but
    // at least 96 rows per GEMM so each transformed weight matrix U[ξ] is reused enough to amortise reading it (measured:
    // 48-row blocks left 512-channel layers bound by reading U). Blocks are balanced, so no block is a sliver.
    internal int BlockTiles
    {
        get
        {
            int max = Math.Max(96, (1 << 20) / (Points * (Cp + Kp)));
            int blocks = (Tiles + max - 1) / max;
            return blocks == 0 ? 0 : (Tiles + blocks - 1) / blocks;
        }
    }
}

/// <summary>
/// 3×3 stride-1 convolution by Winograd's minimal filtering F(m×m, 3×3) (Lavin &amp; Gray 2016), m = 4 or 2, as batched
/// GEMMs: each m×m output tile needs (m + 2)² multiplies per (input, output) channel pair instead of 9m² (36 instead of
/// 144 for F(4,3), 16 instead of 36 for F(2,3)). Per group: the input is packed to HWC with its zero padding; per block
/// of tiles, every (m + 2)² input tile is transformed (Bᵀ d B) into V (P, tiles, C), P = (m + 2)² GEMMs M[ξ] = V[ξ] · U[ξ]
/// with the pre-transformed weights U (P, C, K) (G g Gᵀ, once per weight set), and each M tile is transformed back
/// (Aᵀ m A) with the bias into an HWC output, finally unpacked to NCHW. Phases split their work (rows, tiles, ξ) over
/// <see cref="WorkerPool"/>, so batch 1 uses every thread; results do not depend on the thread count. Float error is a
/// few 1e-6 of the output's magnitude for F(4,3) (see the tests), larger than im2col's; F(2,3) is closer to im2col.
/// </summary>
public static unsafe partial class Winograd
{
    private enum VecKind { Scalar, V128, V256, V512 }

    private static readonly VecKind s_kind =
        Vector512.IsHardwareAccelerated ? VecKind.V512
        : Vector256.IsHardwareAccelerated ? VecKind.V256
        : Vector128.IsHardwareAccelerated ? VecKind.V128
        : VecKind.Scalar;

    /// <summary>Which transform code this process uses: "Vector512", "Vector256", "Vector128" or "Scalar".</summary>
    public static string Path => s_kind switch
    {
        VecKind.V512 => "Vector512",
        VecKind.V256 => "Vector256",
        VecKind.V128 => "Vector128",
        _ => "Scalar",
    };

    internal static int Round16(int n) => (n + 15) & ~15;

    /// <summary>
    /// Floats of the transformed weights: groups × (tile + 2)² × Cp × Kp (per-group channels and outputs rounded up to 16).
    /// </summary>
    public static int TransformedWeightsLength(int outChannels, int channels, int groups, int tile = 4) =>
        checked(groups * (tile + 2) * (tile + 2) * Round16(channels / groups) * Round16(outChannels / groups));

    /// <summary>
    /// U[g, ξ, c, k] = (G w[g·K/groups + k, c] Gᵀ)[ξ] from w (outChannels, channels / groups, 3, 3) for F(tile × tile, 3×3),
    /// zero where c or k is padding; computed in double so the only float rounding is the final store.
    /// </summary>
    public static void TransformWeights(ReadOnlySpan<float> weights, int outChannels, int channels, int groups, Span<float> u, int tile = 4)
    {
        CheckGroups(outChannels, channels, groups);
        CheckTile(tile);
        int cg = channels / groups, kg = outChannels / groups, cp = Round16(cg), kp = Round16(kg);
        if (weights.Length < outChannels * cg * 9)
        {
            throw new ArgumentException($"weights have {weights.Length} floats, ({outChannels}, {cg}, 3, 3) needs {outChannels * cg * 9}", nameof(weights));
        }
        int length = TransformedWeightsLength(outChannels, channels, groups, tile);
        if (u.Length < length)
        {
            throw new ArgumentException($"u has {u.Length} floats, {length} needed", nameof(u));
        }
        u[..length].Clear();
        ReadOnlySpan<double> g = tile == 2 ? G2 : G4;
        int alpha = tile + 2, points = alpha * alpha;
        Span<double> gw = stackalloc double[3 * alpha];
        for (int grp = 0; grp < groups; grp++)
        {
            for (int k = 0; k < kg; k++)
            {
                for (int c = 0; c < cg; c++)
                {
                    var w = weights.Slice((((grp * kg) + k) * cg + c) * 9, 9);
                    // gw = G w: (alpha, 3)
                    for (int i = 0; i < alpha; i++)
                    {
                        for (int b = 0; b < 3; b++)
                        {
                            gw[(i * 3) + b] = (g[i * 3] * w[b]) + (g[(i * 3) + 1] * w[3 + b]) + (g[(i * 3) + 2] * w[6 + b]);
                        }
                    }
                    // U = gw Gᵀ: (alpha, alpha)
                    for (int i = 0; i < alpha; i++)
                    {
                        for (int j = 0; j < alpha; j++)
                        {
                            double v = (gw[i * 3] * g[j * 3]) + (gw[(i * 3) + 1] * g[(j * 3) + 1]) + (gw[(i * 3) + 2] * g[(j * 3) + 2]);
                            u[(((grp * points) + (i * alpha) + j) * cp + c) * kp + k] = (float)v;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Floats of scratch either Forward needs for this shape.</summary>
    public static long ScratchLength(in WinogradShape s)
    {
        long packedIn = (long)s.Num * s.PackedH * s.PackedW * s.Cp;
        long packedOut = (long)s.Num * s.Tile * s.TilesH * s.Tile * s.TilesW * s.Kp;
        long blocks = (long)s.Points * s.BlockTiles * (s.Cp + s.Kp);
        return packedIn + packedOut + blocks + s.Kp;
    }

    /// <summary>
    /// y = conv3×3(x, w) + bias, then when <paramref name="activation"/> the leaky ReLU max(y, 0) + negativeSlope·min(y, 0)
    /// (Caffe's ReLU; slope 0 is the plain one), with u from <see cref="TransformWeights"/>.
    /// bias is empty for none. scratch has at least <see cref="ScratchLength"/> floats (contents arbitrary).
    /// </summary>
    public static void Forward(in WinogradShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> u, ReadOnlySpan<float> bias,
        bool activation, float negativeSlope, Span<float> y, Span<float> scratch)
    {
        Validate(s, x.Length, u.Length, bias.Length, y.Length, scratch.Length);
        Forward(s, x, u, 0, bias, activation, negativeSlope, y, scratch);
    }

    /// <summary>
    /// Packs the transformed weights of <see cref="TransformWeights"/> for the GEMM kernels once (groups × points matrices of
    /// (Cp, Kp)), for the <see cref="Forward(in WinogradShape, ReadOnlySpan{float}, PackedMatrix[], ReadOnlySpan{float}, bool, float, Span{float}, Span{float})"/>
    /// that takes them: the plain one repacks each U[ξ] for every block of more than 96 tiles (VGG16 conv4 at batch 10:
    /// 36 MB per block).
    /// </summary>
    public static PackedMatrix[] PackTransformedWeights(ReadOnlySpan<float> u, in WinogradShape s)
    {
        Need("u", u.Length, TransformedWeightsLength(s.OutChannels, s.Channels, s.Groups, s.Tile));
        int size = s.Cp * s.Kp;
        var packed = new PackedMatrix[s.Groups * s.Points];
        for (int i = 0; i < packed.Length; i++)
        {
            packed[i] = Gemm.Prepack(false, s.Cp, s.Kp, u.Slice(i * size, size));
        }
        return packed;
    }

    /// <summary>As the other Forward, with the transformed weights packed by <see cref="PackTransformedWeights"/>.</summary>
    public static void Forward(in WinogradShape s, ReadOnlySpan<float> x, PackedMatrix[] packedU, ReadOnlySpan<float> bias,
        bool activation, float negativeSlope, Span<float> y, Span<float> scratch)
    {
        ArgumentNullException.ThrowIfNull(packedU);
        Validate(s, x.Length, TransformedWeightsLength(s.OutChannels, s.Channels, s.Groups, s.Tile), bias.Length, y.Length, scratch.Length);
        int cp = s.Cp, kp = s.Kp;
        if (packedU.Length != s.Groups * s.Points || packedU.Any(p => p is null || p.K != cp || p.N != kp))
        {
            throw new ArgumentException($"packedU must hold {s.Groups * s.Points} packed ({s.Cp}, {s.Kp}) matrices for this shape", nameof(packedU));
        }
        var handle = GCHandle.Alloc(packedU);
        try
        {
            Forward(s, x, default, GCHandle.ToIntPtr(handle), bias, activation, negativeSlope, y, scratch);
        }
        finally
        {
            handle.Free();
        }
    }

    // u: the transformed weights as floats, or empty with packedU a GCHandle to PackTransformedWeights' matrices.
    private static void Forward(in WinogradShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> u, nint packedU, ReadOnlySpan<float> bias,
        bool activation, float negativeSlope, Span<float> y, Span<float> scratch)
    {
        if (s.Num == 0 || s.OutChannels == 0 || s.OutHeight <= 0 || s.OutWidth <= 0)
        {
            return;
        }
        int blockTiles = s.BlockTiles;
        long packedIn = (long)s.Num * s.PackedH * s.PackedW * s.Cp;
        long packedOut = (long)s.Num * s.Tile * s.TilesH * s.Tile * s.TilesW * s.Kp;
        fixed (float* px = x)
        fixed (float* pu = u)
        fixed (float* pbias = bias)
        fixed (float* py = y)
        fixed (float* ps = scratch)
        {
            var a = new Args
            {
                S = s, X = px, Y = py, Activation = activation, NegativeSlope = negativeSlope, BlockTiles = blockTiles,
                PackedIn = ps,
                PackedOut = ps + packedIn,
                V = ps + packedIn + packedOut,
                M = ps + packedIn + packedOut + ((long)s.Points * blockTiles * s.Cp),
                Bias = ps + packedIn + packedOut + ((long)s.Points * blockTiles * (s.Cp + s.Kp)),
            };
            int threads = WorkerPool.Threads;
            for (int grp = 0; grp < s.Groups; grp++)
            {
                a.Group = grp;
                a.U = pu == null ? null : pu + ((long)grp * s.Points * s.Cp * s.Kp);
                a.PackedU = packedU;
                var biasPadded = new Span<float>(a.Bias, s.Kp);
                biasPadded.Clear();
                if (!bias.IsEmpty)
                {
                    bias.Slice(grp * s.GroupOut, s.GroupOut).CopyTo(biasPadded);
                }
                a.Phase = Phase.Pack;
                Dispatch(ref a, Math.Min(threads, s.Num * s.PackedH));
                for (int t0 = 0; t0 < s.Tiles; t0 += blockTiles)
                {
                    a.Tile0 = t0;
                    a.Count = Math.Min(blockTiles, s.Tiles - t0);
                    a.Phase = Phase.InputTransform;
                    Dispatch(ref a, Math.Min(threads, a.Count));
                    a.Phase = Phase.Multiply;
                    Dispatch(ref a, Math.Min(threads, s.Points));
                    a.Phase = Phase.OutputTransform;
                    Dispatch(ref a, Math.Min(threads, a.Count));
                }
                a.Phase = Phase.Unpack;
                Dispatch(ref a, Math.Min(threads, s.Num * s.OutHeight));
            }
        }
    }

    // The part count travels with the work: a part must not re-read WorkerPool.Threads, which another thread may change
    // (Gemm.ThreadCount) between the dispatch and the part, and would then slice a range the dispatch never covered.
    private static void Dispatch(ref Args a, int parts)
    {
        a.Parts = parts;
        fixed (Args* pa = &a)
        {
            WorkerPool.Run(parts, &RunPart, pa);
        }
    }

    private static void CheckGroups(int outChannels, int channels, int groups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        if (channels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"channels {channels} and outputs {outChannels} must both divide by groups {groups}");
        }
    }

    private static void CheckTile(int tile)
    {
        if (tile != 2 && tile != 4)
        {
            throw new ArgumentOutOfRangeException(nameof(tile), tile, "the Winograd output tile is 2 (F(2×2, 3×3)) or 4 (F(4×4, 3×3))");
        }
    }

    private static void Validate(in WinogradShape s, int xLength, int uLength, int biasLength, int yLength, int scratchLength)
    {
        CheckGroups(s.OutChannels, s.Channels, s.Groups);
        CheckTile(s.Tile);
        ArgumentOutOfRangeException.ThrowIfNegative(s.Num);
        ArgumentOutOfRangeException.ThrowIfNegative(s.Height);
        ArgumentOutOfRangeException.ThrowIfNegative(s.Width);
        ArgumentOutOfRangeException.ThrowIfNegative(s.PadH);
        ArgumentOutOfRangeException.ThrowIfNegative(s.PadW);
        int outH = Math.Max(0, s.OutHeight), outW = Math.Max(0, s.OutWidth);
        Need("x", xLength, (long)s.Num * s.Channels * s.Height * s.Width);
        Need("y", yLength, (long)s.Num * s.OutChannels * outH * outW);
        Need("u", uLength, TransformedWeightsLength(s.OutChannels, s.Channels, s.Groups, s.Tile));
        if (biasLength != 0)
        {
            Need("bias", biasLength, s.OutChannels);
        }
        if (outH > 0 && outW > 0)
        {
            Need("scratch", scratchLength, ScratchLength(s));
        }
    }

    private static void Need(string name, int length, long needed)
    {
        if (length < needed)
        {
            throw new ArgumentException($"Span '{name}' has {length} floats, the shape needs {needed}.", name);
        }
    }

    private enum Phase { Pack, InputTransform, Multiply, OutputTransform, Unpack }

    [StructLayout(LayoutKind.Auto)]
    private struct Args
    {
        public WinogradShape S;
        public Phase Phase;
        public int Group;
        public int Tile0;
        public int Count;
        public int BlockTiles;
        public int Parts;
        public bool Activation;
        public float NegativeSlope;
        public float* X;
        public float* Y;
        public float* U;
        // GCHandle of the packed U matrices (groups × points) when U is null.
        public nint PackedU;
        public float* Bias;
        public float* PackedIn;
        public float* PackedOut;
        public float* V;
        public float* M;
    }

    private static void RunPart(void* ctx, int part)
    {
        var a = (Args*)ctx;
        int parts = a->Parts;
        switch (a->Phase)
        {
            case Phase.Pack:
            {
                var (r0, r1) = WorkerPool.Slice(a->S.Num * a->S.PackedH, part, parts);
                Pack(a, r0, r1);
                break;
            }
            case Phase.InputTransform:
            {
                var (t0, t1) = WorkerPool.Slice(a->Count, part, parts);
                InputTiles(a, t0, t1);
                break;
            }
            case Phase.Multiply:
            {
                var (x0, x1) = WorkerPool.Slice(a->S.Points, part, parts);
                Multiply(a, x0, x1);
                break;
            }
            case Phase.OutputTransform:
            {
                var (t0, t1) = WorkerPool.Slice(a->Count, part, parts);
                OutputTiles(a, t0, t1);
                break;
            }
            default:
            {
                var (r0, r1) = WorkerPool.Slice(a->S.Num * a->S.OutHeight, part, parts);
                Unpack(a, r0, r1);
                break;
            }
        }
    }

    // Packed rows [r0, r1) of (Num, PackedH): packed[n, i, j, c] = x[n, group's channel c, i − padH, j − padW], 0 outside.
    private static void Pack(Args* a, int r0, int r1)
    {
        ref readonly var s = ref a->S;
        int cg = s.GroupChannels, cp = s.Cp, pw = s.PackedW, w = s.Width;
        for (int r = r0; r < r1; r++)
        {
            int n = r / s.PackedH, iy = (r % s.PackedH) - s.PadH;
            float* dst = a->PackedIn + ((long)r * pw * cp);
            var row = new Span<float>(dst, pw * cp);
            if (iy < 0 || iy >= s.Height)
            {
                row.Clear();
                continue;
            }
            // Zero the left and right padding columns and the padded channels; the image columns are overwritten below.
            row[..(s.PadW * cp)].Clear();
            int right = Math.Min(pw, s.PadW + w);
            row[(right * cp)..].Clear();
            if (cp != cg)
            {
                for (int j = s.PadW; j < right; j++)
                {
                    row.Slice((j * cp) + cg, cp - cg).Clear();
                }
            }
            int cols = right - s.PadW;
            float* src = a->X + ((((long)n * s.Channels) + ((long)a->Group * cg)) * s.Height + iy) * w;
            float* d0 = dst + (s.PadW * cp);
            long plane = (long)s.Height * w;
            // Transpose (cg, cols) into (cols, cp) in 8-channel strips: 8 read streams, each write 8 adjacent floats.
            for (int c0 = 0; c0 < cg; c0 += 8)
            {
                int c1 = Math.Min(cg, c0 + 8);
                float* sc = src + (c0 * plane);
                if (c1 - c0 == 8)
                {
                    for (int j = 0; j < cols; j++)
                    {
                        float* dj = d0 + (j * cp) + c0;
                        dj[0] = sc[j];
                        dj[1] = sc[plane + j];
                        dj[2] = sc[(2 * plane) + j];
                        dj[3] = sc[(3 * plane) + j];
                        dj[4] = sc[(4 * plane) + j];
                        dj[5] = sc[(5 * plane) + j];
                        dj[6] = sc[(6 * plane) + j];
                        dj[7] = sc[(7 * plane) + j];
                    }
                }
                else
                {
                    for (int j = 0; j < cols; j++)
                    {
                        for (int c = 0; c < c1 - c0; c++)
                        {
                            d0[(j * cp) + c0 + c] = sc[(c * plane) + j];
                        }
                    }
                }
            }
        }
    }

    // Tiles [Tile0 + t0, Tile0 + t1): V[ξ, t − Tile0, ·] = Bᵀ d B.
    private static void InputTiles(Args* a, int t0, int t1)
    {
        switch (s_kind)
        {
            case VecKind.V512: InputTiles<WinoVec512>(a, t0, t1); break;
            case VecKind.V256: InputTiles<WinoVec256>(a, t0, t1); break;
            case VecKind.V128: InputTiles<WinoVec128>(a, t0, t1); break;
            default: InputTiles<WinoScalar>(a, t0, t1); break;
        }
    }

    private static void InputTiles<TV>(Args* a, int t0, int t1)
        where TV : unmanaged, IWinoVec<TV>
    {
        ref readonly var s = ref a->S;
        int cp = s.Cp, m = s.Tile, rowStride = s.PackedW * cp, xiStride = a->Count * cp;
        int perImage = s.TilesH * s.TilesW;
        for (int t = t0; t < t1; t++)
        {
            int g = a->Tile0 + t, n = g / perImage, r = g % perImage, ty = r / s.TilesW, tx = r % s.TilesW;
            float* src = a->PackedIn + (((((long)n * s.PackedH) + (m * ty)) * s.PackedW) + (m * tx)) * cp;
            float* dst = a->V + ((long)t * cp);
            if (m == 2)
            {
                InputTile2<TV>(src, rowStride, cp, dst, xiStride);
            }
            else
            {
                InputTile<TV>(src, rowStride, cp, dst, xiStride);
            }
        }
    }

    // M[ξ] (tiles, Kp) = V[ξ] (tiles, Cp) · U[ξ] (Cp, Kp) for ξ in [x0, x1).
    private static void Multiply(Args* a, int x0, int x1)
    {
        ref readonly var s = ref a->S;
        int cp = s.Cp, kp = s.Kp, count = a->Count;
        var packed = a->U == null ? (PackedMatrix[])GCHandle.FromIntPtr(a->PackedU).Target! : null;
        for (int xi = x0; xi < x1; xi++)
        {
            var v = new ReadOnlySpan<float>(a->V + ((long)xi * count * cp), count * cp);
            var m = new Span<float>(a->M + ((long)xi * count * kp), count * kp);
            if (packed is not null)
            {
                Gemm.SgemmPacked(false, count, v, packed[(a->Group * s.Points) + xi], m);
                continue;
            }
            var u = new ReadOnlySpan<float>(a->U + ((long)xi * cp * kp), cp * kp);
            Gemm.Sgemm(false, false, count, kp, cp, 1f, v, u, 0f, m);
        }
    }

    // Tiles [Tile0 + t0, Tile0 + t1): packedOut[n, m·ty + i, m·tx + j, ·] = (Aᵀ M A)[i, j] + bias, m = Tile.
    private static void OutputTiles(Args* a, int t0, int t1)
    {
        switch (s_kind)
        {
            case VecKind.V512: OutputTiles<WinoVec512>(a, t0, t1); break;
            case VecKind.V256: OutputTiles<WinoVec256>(a, t0, t1); break;
            case VecKind.V128: OutputTiles<WinoVec128>(a, t0, t1); break;
            default: OutputTiles<WinoScalar>(a, t0, t1); break;
        }
    }

    private static void OutputTiles<TV>(Args* a, int t0, int t1)
        where TV : unmanaged, IWinoVec<TV>
    {
        ref readonly var s = ref a->S;
        int kp = s.Kp, tile = s.Tile, xiStride = a->Count * kp, outW = tile * s.TilesW, rowStride = outW * kp;
        int perImage = s.TilesH * s.TilesW;
        for (int t = t0; t < t1; t++)
        {
            int g = a->Tile0 + t, n = g / perImage, r = g % perImage, ty = r / s.TilesW, tx = r % s.TilesW;
            float* m = a->M + ((long)t * kp);
            float* dst = a->PackedOut + (((((long)n * tile * s.TilesH) + (tile * ty)) * outW) + (tile * tx)) * kp;
            if (tile == 2)
            {
                OutputTile2<TV>(m, xiStride, kp, a->Bias, a->Activation, a->NegativeSlope, dst, rowStride);
            }
            else
            {
                OutputTile<TV>(m, xiStride, kp, a->Bias, a->Activation, a->NegativeSlope, dst, rowStride);
            }
        }
    }

    // Output rows [r0, r1) of (Num, OutHeight): y[n, group's k, oy, ·] = packedOut[n, oy, ·, k], transposed in strips of
    // 8 outputs: one read of 8 adjacent floats per column, 8 sequential write streams.
    private static void Unpack(Args* a, int r0, int r1)
    {
        ref readonly var s = ref a->S;
        int kg = s.GroupOut, kp = s.Kp, oh = s.OutHeight, ow = s.OutWidth, pw = s.Tile * s.TilesW, ph = s.Tile * s.TilesH;
        long plane = (long)oh * ow;
        for (int r = r0; r < r1; r++)
        {
            int n = r / oh, oy = r % oh;
            float* src = a->PackedOut + ((((long)n * ph) + oy) * pw * kp);
            float* dst = a->Y + ((((long)n * s.OutChannels) + ((long)a->Group * kg)) * plane) + ((long)oy * ow);
            for (int k0 = 0; k0 < kg; k0 += 8)
            {
                float* d = dst + (k0 * plane);
                float* sk = src + k0;
                if (kg - k0 >= 8)
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float* v = sk + (ox * kp);
                        d[ox] = v[0];
                        d[plane + ox] = v[1];
                        d[(2 * plane) + ox] = v[2];
                        d[(3 * plane) + ox] = v[3];
                        d[(4 * plane) + ox] = v[4];
                        d[(5 * plane) + ox] = v[5];
                        d[(6 * plane) + ox] = v[6];
                        d[(7 * plane) + ox] = v[7];
                    }
                }
                else
                {
                    for (int ox = 0; ox < ow; ox++)
                    {
                        for (int k = 0; k < kg - k0; k++)
                        {
                            d[(k * plane) + ox] = sk[(ox * kp) + k];
                        }
                    }
                }
            }
        }
    }
}
