using Crema.Kernels;
using Crema.Layers;

namespace Crema.Tests.Layers;

/// <summary>
/// The batch-level paths of Convolution (images split across threads, backward GEMMs over several images side by side)
/// against the per-image N-D path (force_nd_im2col), on batches big enough to use them.
/// </summary>
public class ConvolutionBatchingTests
{
    // (case, batch, threads, big-weights path: the weight gradient untransposed, part 0 straight into the diff, and the
    // bottom gradient on Wᵀ packed per image, as layers above ConvolutionLayerBase.SmallWeights weights do)
    public static TheoryData<string, int, int, bool> Variants => new()
    {
        { "padded", 8, 2, false },                  // 2 parts of 4 images, each one wide step
        { "padded", 7, 2, false },                  // odd batch: one part, one wide step of 7
        { "group 2 dilated padded", 8, 2, false },
        { "simple k3 s2", 12, 2, false },
        { "group 3", 9, 1, false },
        { "no bias", 6, 2, false },
        { "padded", 8, 2, true },
        { "group 2 dilated padded", 8, 2, true },
        { "group 3", 9, 1, true },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void BatchedPaths_MatchPerImageNdPath(string name, int num, int threads, bool bigWeightsPath)
    {
        var c = ConvolutionLayerTests.Cases[name];
        int[] shape = [num, .. c.Shape.Skip(1)];
        int saved = Gemm.ThreadCount;
        try
        {
            Gemm.ThreadCount = threads;
            var batched = Run(c, shape, bigWeightsPath);
            var again = Run(c, shape, bigWeightsPath);
            var reference = Run(c with { ForceNd = true }, shape, false);
            for (int i = 0; i < batched.Length; i++)
            {
                TestBlobs.AssertClose(reference[i], batched[i], 1e-4f);
                // Deterministic: same split, same reduction order.
                Assert.Equal(batched[i], again[i]);
            }
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
    }

    // top, bottom diff, weight diff, bias diff after one forward and one backward (parameter diffs start non-zero: += is checked).
    private static float[][] Run(ConvolutionLayerTests.ConvCase c, int[] shape, bool bigWeightsPath)
    {
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        var layer = new ConvolutionLayer(c.Param());
        if (bigWeightsPath)
        {
            layer.SmallWeights = 0;
        }
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        TestBlobs.Gaussian(7, 1f, top[0].Shape.ToArray()).Data.CopyTo(top[0].Diff);
        foreach (var blob in layer.Blobs)
        {
            blob.Diff.Fill(0.5f);
        }
        layer.Backward(top, [true], bottom);
        var result = new List<float[]> { top[0].Data.ToArray(), bottom[0].Diff.ToArray() };
        result.AddRange(layer.Blobs.Select(b => b.Diff.ToArray()));
        return [.. result];
    }
}
