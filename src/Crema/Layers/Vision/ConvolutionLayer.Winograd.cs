using Crema.Kernels;

namespace Crema.Layers;

// The inference fast path: 3×3 stride-1 2-D convolutions run as Winograd F(4×4, 3×3) or F(2×2, 3×3) (Kernels/Winograd.cs)
// once the net is frozen for inference, on the shapes where that tile was measured faster than im2col + GEMM. TRAIN, or a
// net not frozen, never takes it. The transformed weights (4× or 16/9 of the 3×3 weights) are cached while frozen and
// rebuilt when ForwardWeights comes from a different address or length, a new fold (ForwardWeightsVersion), a different
// tile (a reshape changed the shape's variant), or differs in 16 sampled values (a managed copy can move, and a new one
// could land where an old one was), or after InvalidateInferenceCache (for code that rewrites the weights in place).
public sealed partial class ConvolutionLayer
{
    // The transformed weights, packed for the GEMM kernels (groups × points matrices).
    private PackedMatrix[]? _winogradPacked;
    private readonly FrozenWeightsKey _winogradKey = new();
    private int _winogradTile;

    /// <summary>Drops weight-derived caches (Winograd-transformed and transposed packed weights); call after changing the forward weights in place.</summary>
    internal void InvalidateInferenceCache() => (_winogradPacked, _transposedWeights) = (null, null);

    /// <summary>Benchmarks set this to time the im2col path of frozen layers against the Winograd one (the cache is kept).</summary>
    internal static bool WinogradDisabled { get; set; }

    /// <summary>
    /// Benchmarks set this to time one Winograd variant on every shape it can run (3×3, stride 1), whatever the rule says:
    /// 0 = the measured rule, 2 = F(2×2, 3×3), 4 = F(4×4, 3×3).
    /// </summary>
    internal static int ForcedWinogradTile { get; set; }

    /// <summary>True while transformed weights are cached, i.e. the last Forward took the Winograd path (for tests).</summary>
    internal bool HasWinogradCache => _winogradPacked is not null;

    /// <summary>The output tile of the cached transformed weights: 2 or 4, 0 when the last Forward took im2col (for tests).</summary>
    internal int WinogradTile => _winogradPacked is null ? 0 : _winogradTile;

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        top = ForwardTops(top);
        if (!InferenceFrozen || Phase != Proto.Phase.Test)
        {
            _winogradPacked = null;
        }
        else if (!WinogradDisabled && WinogradShapeFor(bottom[0]) is { } shape)
        {
            ForwardWinograd(bottom, top, shape);
            return;
        }
        base.ForwardCore(bottom, top);
    }

    // The Winograd shape of this layer on bottom b, or null where the im2col path is used.
    private WinogradShape? WinogradShapeFor(Blob b)
    {
        var g = Geometry;
        if (g.NumSpatialAxes != 2 || g.ChannelAxis != 1 || b.NumAxes != 4
            || g.Kernel[0] != 3 || g.Kernel[1] != 3 || g.Stride[0] != 1 || g.Stride[1] != 1 || g.Dilation[0] != 1 || g.Dilation[1] != 1)
        {
            return null;
        }
        int channels = b.ShapeAt(1), outChannels = Blobs[0].ShapeAt(0);
        int groups = channels / Blobs[0].ShapeAt(1);
        var shape = new WinogradShape(b.ShapeAt(0), channels, b.ShapeAt(2), b.ShapeAt(3), outChannels, groups, g.Pad[0], g.Pad[1]);
        if (shape.OutHeight <= 0 || shape.OutWidth <= 0)
        {
            return null;
        }
        int tile = ForcedWinogradTile != 0 ? ForcedWinogradTile : FasterTile(shape);
        shape = shape with { Tile = tile };
        return tile != 0 && Winograd.ScratchLength(shape) <= Array.MaxLength ? shape : null;
    }

    // The output tile measured fastest for this shape, 0 for im2col + GEMM (benchmarks: `Crema.Benchmarks winograd-table
    // layers`, Zen 5, AVX-512 and AVX2, 2 threads, VGG16 / ResNet-50 / SqueezeNet 3×3 layers at batch 1 and 10).
    // F(4,3) beat im2col 1.3–2.8× from 48 input channels per group up. Fewer channels lose with either tile (SqueezeNet
    // fire2–fire5 expand3x3, 16–32 channels, at batch 10: F(4,3) 0.36–0.92×, F(2,3) 0.4–0.7×; VGG conv1_1, 3 channels:
    // 0.3×): the tile transforms, linear in channels, weigh against GEMMs quadratic in them, and F(2,3) transforms more
    // points per output (4 against 2.25). At batch 1, where im2col's GEMM is split across the threads too, 32 channels
    // win with F(4,3): SqueezeNet fire4/fire5 expand3x3 1.1–1.4× in `winograd-table`, in the net 1.27 -> 0.96 ms and
    // 0.35 -> 0.22 ms (AVX2: 1.32 -> 1.07, 0.35 -> 0.22); 16 channels (fire2/3) only tie (1.08×) and stay on im2col. Fewer than 20 F(4,3) tiles per group lose or break even (ResNet res5 at batch
    // 1, 4 tiles: 0.4–0.6×; 14×14 layers at batch 1, 16 tiles: 0.6–1.3×): each of the 36 transformed weight matrices is
    // read for too few rows. There F(2,3), with 3× the tiles and 16/36 of the weights to read, wins from 16 tiles: 14×14
    // at batch 1 (49 tiles: ResNet res4 and VGG conv5 1.3–1.6×) and, since its weights are packed once, 7×7 at batch 1
    // (16 tiles: ResNet-50 res5, 512 channels, 1.5–1.7× with AVX-512, 1.4× with AVX2 in `winograd-table`; in the net
    // 1.9 -> 1.05 ms per layer; GoogLeNet inception_5b/3x3 0.57 -> 0.40 ms). Where both have enough tiles F(4,3) wins or
    // ties (its GEMMs do 36/64 of F(2,3)'s multiplies).
    private static int FasterTile(in WinogradShape s)
    {
        if (s.Channels / s.Groups < (s.Num == 1 ? 32 : 48) || s.OutChannels / s.Groups < 16)
        {
            return 0;
        }
        if ((long)s.Num * ((s.OutHeight + 3) / 4) * ((s.OutWidth + 3) / 4) >= 20)
        {
            return 4;
        }
        return (long)s.Num * ((s.OutHeight + 1) / 2) * ((s.OutWidth + 1) / 2) >= 16 ? 2 : 0;
    }

    // y = act(y + residual), image by image, as the fused Eltwise SUM (and its activation) would compute it.
    private unsafe void AddResidual(Span<float> y)
    {
        for (int n = 0; n < Num; n++)
        {
            var image = y.Slice(n * TopDim, TopDim);
            fixed (float* pimage = image)
            fixed (float* pres = ResidualImage(n))
            {
                new GemmEpilogue(null, WinogradActivation, WinogradNegativeSlope, pimage, pres).Apply(pimage, TopDim, 0, 1, TopDim);
            }
        }
    }

    // The activation Net.OptimizeForInference fused into this layer (the skipped ReLU layer's), applied in the output step.
    private bool WinogradActivation => HasFusedActivation;
    private float WinogradNegativeSlope => FusedNegativeSlope;

    private void ForwardWinograd(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, WinogradShape shape)
    {
        var weights = ForwardWeights;
        if (_winogradPacked is null || _winogradTile != shape.Tile || !_winogradKey.Matches(weights, ForwardWeightsVersion))
        {
            var u = new float[Winograd.TransformedWeightsLength(shape.OutChannels, shape.Channels, shape.Groups, shape.Tile)];
            Winograd.TransformWeights(weights, shape.OutChannels, shape.Channels, shape.Groups, u, shape.Tile);
            _winogradPacked = Winograd.PackTransformedWeights(u, shape);
            _winogradTile = shape.Tile;
            _winogradKey.Capture(weights, ForwardWeightsVersion);
        }
        var scratch = ScratchPool.Shared.Rent((int)Winograd.ScratchLength(shape));
        try
        {
            for (int i = 0; i < bottom.Count; i++)
            {
                // A fused residual sum goes after the bias, before the activation: a pass of its own here.
                Winograd.Forward(shape, bottom[i].Data, _winogradPacked, ForwardBias, WinogradActivation && !HasFusedResidual, WinogradNegativeSlope,
                    top[i].Data, scratch);
                if (HasFusedResidual)
                {
                    AddResidual(top[i].Data);
                }
                if (WritesIntoConcat)
                {
                    // Winograd writes whole NCHW blobs: computed in place, then copied (what the Concat would have done).
                    CopyIntoConcat(top[i]);
                }
            }
        }
        finally
        {
            ScratchPool.Shared.Return(scratch);
        }
    }
}
