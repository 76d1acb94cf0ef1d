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
        // 3 × 7 × 7 = 147 column rows × 47 × 47 positions: 4 chunks of 9 rows (the last one 11)
        ["first layer 7x7 s2"] = new([1, 3, 99, 99], 8, [7, 7], [0, 0], [2, 2], [1, 1]),
        ["3x3 padded"] = new([1, 16, 30, 34], 6, [3, 3], [1, 1], [1, 1], [1, 1]),
        ["group 2 dilated"] = new([1, 16, 40, 33], 4, [3, 3], [2, 2], [1, 1], [2, 2], Group: 2),
        ["11x11 s4 no bias"] = new([1, 3, 95, 87], 5, [11, 11], [0, 0], [4, 4], [1, 1], Bias: false),
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
            var (chunked, w, b) = Forward(c, shape);
            var (whole, _, _) = Forward(c with { ForceNd = true }, shape);
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

    private static (float[] Top, float[] Weights, float[]? Bias) Forward(ConvolutionLayerTests.ConvCase c, int[] shape)
    {
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        using var layer = new ConvolutionLayer(c.Param());
        layer.SetUp(bottom, top);
        Assert.True(c.ForceNd || layer.ChunkRows() > 0, "the case must take the chunked path");
        // Top starts as NaN: every output must be written.
        top[0].Data.Fill(float.NaN);
        layer.Forward(bottom, top);
        return (top[0].Data.ToArray(), layer.Blobs[0].Data.ToArray(), c.Bias ? layer.Blobs[1].Data.ToArray() : null);
    }
}
