using Crema.Kernels;
using Crema.Layers;

namespace Crema.Tests.Layers;

/// <summary>
/// Convolution forward on images whose column matrix exceeds one chunk (64 Ki floats): computed in chunks of output
/// rows, shared among the threads when the batch gives one part (batch 1, 3 images on 2 threads), else chunk by chunk
/// inside each part. Checked against the naive loop, and bit for bit against the whole-image N-D path.
/// </summary>
public class ConvolutionChunkTests
{
    private static readonly Dictionary<string, ConvolutionLayerTests.ConvCase> Cases = new()
    {
        // 3 × 7 × 7 = 147 column rows × 47 × 47 positions: 4 chunks of 9 rows (the last one 11); shared by 2 threads,
        // 4 chunks of 12 rows (the last 11)
        ["first layer 7x7 s2"] = new([1, 3, 99, 99], 8, [7, 7], [0, 0], [2, 2], [1, 1]),
        // 144 column rows × 60 × 34: 5 chunks of 13 rows; shared by 2 threads, 6 of 10
        ["3x3 padded"] = new([1, 16, 60, 34], 6, [3, 3], [1, 1], [1, 1], [1, 1]),
        ["group 2 dilated"] = new([1, 16, 100, 33], 4, [3, 3], [2, 2], [1, 1], [2, 2], Group: 2),
        ["11x11 s4 no bias"] = new([1, 3, 171, 87], 5, [11, 11], [0, 0], [4, 4], [1, 1], Bias: false),
    };

    public static TheoryData<string, int, int> Variants()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in Cases.Keys)
        {
            data.Add(name, 1, 2);  // one part: chunks shared among 2 threads
            data.Add(name, 3, 2);  // 3 images on 2 threads: one part too
            data.Add(name, 4, 2);  // 2 parts of 2 images: chunks in turn inside each part
            data.Add(name, 1, 1);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ChunkedForward_MatchesTheNaiveLoopAndTheWholeImagePath(string name, int num, int threads)
    {
        var c = Cases[name];
        int[] shape = [num, .. c.Shape.Skip(1)];
        int saved = Gemm.ThreadCount;
        try
        {
            Gemm.ThreadCount = threads;
            // Batch 1 and 3 images on 2 threads run as one part whose chunks the threads share.
            int sharing = num == 1 || num == 3 ? threads : 1;
            var (chunked, w, b) = Forward(c, shape, sharing);
            var (whole, _, _) = Forward(c with { ForceNd = true }, shape, sharing);
            Assert.Equal(whole, chunked);
            var expected = ConvolutionReference.Convolve(TestBlobs.Gaussian(1701, 1f, shape), c.Axis, w, b, c.NumOutput, c.Group,
                c.Kernel, c.Pad, c.Stride, c.Dilation, out _);
            TestBlobs.AssertClose(expected, chunked, 1e-3f);
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
    }

    // Images in parallel parts, each part's chunks in turn on its own thread: the parts must not share chunk state (they
    // once did: one part's pointers overwrote the other's). Repeated, since a race shows only sometimes.
    [Fact]
    public void ParallelParts_ChunkedForward_EveryImageRight_Repeatedly()
    {
        var c = Cases["first layer 7x7 s2"];
        int[] shape = [8, .. c.Shape.Skip(1)];
        int saved = Gemm.ThreadCount;
        try
        {
            Gemm.ThreadCount = 2;
            var bottom = new[] { TestBlobs.Gaussian(1701, 1f, shape) };
            var top = new[] { new Blob() };
            Rng.Seed(1701);
            using var layer = new ConvolutionLayer(c.Param());
            layer.SetUp(bottom, top);
            Assert.True(layer.ChunkRows(1) > 0, "the case must take the chunked path");
            var expected = ConvolutionReference.Convolve(bottom[0], c.Axis, layer.Blobs[0].Data.ToArray(), layer.Blobs[1].Data.ToArray(),
                c.NumOutput, c.Group, c.Kernel, c.Pad, c.Stride, c.Dilation, out _);
            for (int run = 0; run < 30; run++)
            {
                top[0].Data.Fill(float.NaN);
                layer.Forward(bottom, top);
                TestBlobs.AssertClose(expected, top[0].Data.ToArray(), 1e-3f);
            }
            GC.KeepAlive(bottom);
        }
        finally
        {
            Gemm.ThreadCount = saved;
        }
    }

    [Fact]
    public void SharedChunks_ComeInMultiplesOfTheThreadCountOrTheImageRunsWhole()
    {
        // 3x3 padded: 5 chunks of 13 rows on one thread; 2 threads share 6 of 10 rows (60 = 6 × 10).
        Assert.Equal(13, ChunkRowsOf(Cases["3x3 padded"], 1));
        Assert.Equal(10, ChunkRowsOf(Cases["3x3 padded"], 2));
        // SqueezeNet conv10's geometry (1×1 with pad 1, 512 channels, 13×13 -> 15×15): 2 chunks (13 and 2 rows) on one
        // thread; shared by 2 threads that would leave one idle, so the image runs whole (its GEMM splits evenly).
        var conv10 = new ConvolutionLayerTests.ConvCase([1, 512, 13, 13], 8, [1, 1], [1, 1], [1, 1], [1, 1]);
        Assert.Equal(13, ChunkRowsOf(conv10, 1));
        Assert.Equal(0, ChunkRowsOf(conv10, 2));
    }

    private static int ChunkRowsOf(ConvolutionLayerTests.ConvCase c, int sharingThreads)
    {
        using var layer = new ConvolutionLayer(c.Param());
        layer.SetUp([TestBlobs.Gaussian(1701, 1f, c.Shape)], [new Blob()]);
        return layer.ChunkRows(sharingThreads);
    }

    private static (float[] Top, float[] Weights, float[]? Bias) Forward(ConvolutionLayerTests.ConvCase c, int[] shape, int sharingThreads)
    {
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        using var layer = new ConvolutionLayer(c.Param());
        layer.SetUp(bottom, top);
        Assert.True(c.ForceNd || layer.ChunkRows(sharingThreads) > 0, "the case must take the chunked path");
        // Top starts as NaN: every output must be written.
        top[0].Data.Fill(float.NaN);
        layer.Forward(bottom, top);
        return (top[0].Data.ToArray(), layer.Blobs[0].Data.ToArray(), c.Bias ? layer.Blobs[1].Data.ToArray() : null);
    }
}
