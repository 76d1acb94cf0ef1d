using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Nets;

/// <summary>
/// OptimizeForInference(InferenceBlobs.OutputsOnly): convolutions feeding a channel Concat write their images straight into
/// the Concat's top (through the GEMM, transposed 1×1 and Winograd paths), the Concat copying only what is left; every
/// blob but those convolutions' own tops equals the unoptimised net, also after a reshape.
/// </summary>
public partial class InferenceOptimizationTests
{
    // A fire module: squeeze 1×1, then expand 1×1 (e1 outputs) and expand 3×3 (e3 outputs) with ReLUs, concatenated, then
    // pooled. extra: a Pooling of the squeeze output as a third Concat bottom (not a convolution's).
    private static string Fire(int num, int channels, int size, int e1, int e3, bool poolBottom = false) => $$"""
        name: "fire"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: {{num}} dim: {{channels}} dim: {{size}} dim: {{size}} } } }
        layer { name: "squeeze" type: "Convolution" bottom: "data" top: "squeeze" convolution_param { num_output: {{channels}} kernel_size: 1 } }
        layer { name: "squeeze_relu" type: "ReLU" bottom: "squeeze" top: "squeeze" }
        layer { name: "e1" type: "Convolution" bottom: "squeeze" top: "e1" convolution_param { num_output: {{e1}} kernel_size: 1 } }
        layer { name: "e1_relu" type: "ReLU" bottom: "e1" top: "e1" }
        layer { name: "e3" type: "Convolution" bottom: "squeeze" top: "e3" convolution_param { num_output: {{e3}} kernel_size: 3 pad: 1 } }
        layer { name: "e3_relu" type: "ReLU" bottom: "e3" top: "e3" }
        {{(poolBottom ? """layer { name: "side" type: "Pooling" bottom: "squeeze" top: "side" pooling_param { pool: MAX kernel_size: 3 stride: 1 pad: 1 } }""" : "")}}
        layer { name: "concat" type: "Concat" bottom: "e1" bottom: "e3" {{(poolBottom ? "bottom: \"side\"" : "")}} top: "concat" }
        layer { name: "pool" type: "Pooling" bottom: "concat" top: "pool" pooling_param { pool: AVE global_pooling: true } }
        """;

    [Theory]
    [InlineData(1, 16, 13, 24, 24, false)]  // im2col 3×3 (16 channels), batch 1
    [InlineData(2, 16, 7, 24, 40, false)]   // two parallel parts; 7×7 1×1 may run transposed
    [InlineData(3, 16, 9, 8, 24, false)]    // one part on two threads
    [InlineData(2, 48, 13, 24, 32, false)]  // 3×3 on 48 channels: Winograd, copied into the Concat
    [InlineData(2, 16, 9, 24, 24, true)]    // a Pooling bottom the Concat still copies
    public void Concat_ConvolutionsWriteIntoIt_EveryOtherBlobEqual(int num, int channels, int size, int e1, int e3, bool poolBottom)
    {
        Log.Quiet = true;
        var (reference, optimised) = Pair(Fire(num, channels, size, e1, e3, poolBottom), seed: 61);
        using (reference)
        using (optimised)
        {
            var lines = new List<string>();
            using (Log.Capture(lines))
            {
                optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            }
            Assert.Equal(!poolBottom, optimised.Layer("concat").FusedIntoEarlierLayer);
            Assert.Equal(!poolBottom, lines.Any(l => l.Contains("1 Concat into Convolution", StringComparison.Ordinal)));
            var unwritten = new HashSet<string> { "e1", "e3" };
            float tol = channels >= 48 ? 1e-5f : 0f; // Winograd against the reference's im2col
            AssertSameForward(reference, optimised, seed: 62, tol, unwritten: unwritten);
            AssertSameForward(reference, optimised, seed: 63, tol, unwritten: unwritten);
            foreach (var net in new[] { reference, optimised })
            {
                net.InputBlobs[0].Reshape(num + 1, channels, size + 2, size + 2);
                net.Reshape();
            }
            AssertSameForward(reference, optimised, seed: 64, tol, unwritten: unwritten);
        }
    }

    [Fact]
    public void Concat_OfABlobTwice_OrAlongAnotherAxis_IsLeftAlone()
    {
        Log.Quiet = true;
        var param = NetBuilder.Parse(Fire(2, 16, 9, 24, 24));
        var concat = param.Layer.Single(l => l.Name == "concat");
        concat.Bottom.Add("e1"); // e1 twice: its producer cannot write both places
        var (reference, optimised) = Pair(param, seed: 65);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            Assert.False(optimised.Layer("concat").FusedIntoEarlierLayer);
            // e3 still writes into the concatenation; e1 (twice) is copied.
            AssertSameForward(reference, optimised, seed: 66, tol: 0f, unwritten: new HashSet<string> { "e3" });
        }

        var heights = NetBuilder.Parse(Fire(2, 16, 9, 24, 24));
        heights.Layer.Single(l => l.Name == "concat").ConcatParam = new ConcatParameter { Axis = 2 };
        heights.Layer.Single(l => l.Name == "e3").ConvolutionParam.NumOutput = 24;
        (reference, optimised) = Pair(heights, seed: 67);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            Assert.False(optimised.Layer("concat").FusedIntoEarlierLayer);
            AssertSameForward(reference, optimised, seed: 68, tol: 0f);
        }
    }

    [Fact]
    public void SqueezeNet_RealWeights_OutputsOnly_EveryFireConcatFused_EveryOtherBlobEqual()
    {
        Log.Quiet = true;
        var (reference, optimised) = SqueezeNetPair();
        using var r = reference;
        using var o = optimised;
        optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
        AssertConcatsFused(optimised, 8);
        AssertSameForward(reference, optimised, seed: 69, tol: 1e-5f, std: 50f, unwritten: ConcatBottoms(optimised));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void GoogLeNet_RandomWeights_OutputsOnly_EveryInceptionConcatFused_EveryOtherBlobEqual()
    {
        Log.Quiet = true;
        string path = RepoPaths.Get("tests", "Crema.Tests", "TestData", "models", "bvlc_caffe", "models_bvlc_googlenet", "deploy.prototxt");
        var (reference, optimised) = Pair(ProtoFiles.ReadNetText(path), seed: 70);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            AssertConcatsFused(optimised, 9);
            AssertSameForward(reference, optimised, seed: 71, tol: 1e-5f, unwritten: ConcatBottoms(optimised));
        }
    }

    private static void AssertConcatsFused(Net net, int count)
    {
        var concats = net.Layers.Where(l => l.Type == "Concat").ToList();
        Assert.Equal(count, concats.Count);
        Assert.All(concats, l => Assert.True(l.FusedIntoEarlierLayer, l.Name));
    }

    private static HashSet<string> ConcatBottoms(Net net) =>
        Enumerable.Range(0, net.Layers.Count).Where(i => net.Layers[i].Type == "Concat").SelectMany(i => net.BottomsOf(i)).Select(b => b.Name).ToHashSet();
}
