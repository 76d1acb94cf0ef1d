using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Nets;

/// <summary>
/// OptimizeForInference(InferenceBlobs.OutputsOnly): a convolution whose top feeds only a unit-coefficient Eltwise SUM
/// computes the sum (and the ReLU fused into it) itself; every blob but the convolution's own top still equals the
/// unoptimised net, through each forward path of the convolution (im2col GEMM, Winograd, transposed 1×1, chunked), for
/// batches split into parallel parts or not; and what must not be fused is not.
/// </summary>
public partial class InferenceOptimizationTests
{
    // main: 3×3 conv (kernel k, pad (k−1)/2) on an n×c×s×s input, then BatchNorm (optional); shortcut: 1×1 conv; sum of both
    // (shortcut first, as ResNet writes it), then a ReLU (optional). The main branch's conv is the one to take the sum.
    private static string ResidualBlock(int num, int channels, int size, int kernel, bool batchNorm, float? reluSlope, string coeffs = "",
        bool mainFirst = false)
    {
        string slope = reluSlope is float s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        string shortcut = """
            layer { name: "shortcut" type: "Convolution" bottom: "data" top: "shortcut" convolution_param { num_output: 24 kernel_size: 1 } }
            """;
        string main = $$"""
            layer { name: "main" type: "Convolution" bottom: "data" top: "main"
              convolution_param { num_output: 24 kernel_size: {{kernel}} pad: {{(kernel - 1) / 2}} } }
            {{(batchNorm ? """layer { name: "bn" type: "BatchNorm" bottom: "main" top: "main" }""" : "")}}
            """;
        return $$"""
            name: "residual"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: {{num}} dim: {{channels}} dim: {{size}} dim: {{size}} } } }
            {{(mainFirst ? main + shortcut : shortcut + main)}}
            layer { name: "sum" type: "Eltwise" bottom: "shortcut" bottom: "main" top: "sum" {{coeffs}} }
            {{(reluSlope is null ? "" : $$"""layer { name: "relu" type: "ReLU" bottom: "sum" top: "sum" relu_param { negative_slope: {{slope}} } }""")}}
            layer { name: "pool" type: "Pooling" bottom: "sum" top: "pool" pooling_param { pool: AVE global_pooling: true } }
            """;
    }

    [Theory]
    // im2col GEMM (5×5), batch 1, 2 (two parallel parts), 3 (one part on 2 threads); with and without the ReLU.
    [InlineData(1, 8, 9, 5, false, 0f)]
    [InlineData(2, 8, 9, 5, false, null)]
    [InlineData(3, 8, 9, 5, false, 0.1f)]
    // 1×1 main branch: the GEMM reads the input in place; on a 7×7 map it may run transposed (AVX-512).
    [InlineData(2, 16, 7, 1, true, 0f)]
    [InlineData(1, 16, 20, 1, false, 0f)]
    // 3×3 with 48 channels on 13×13: the Winograd path, with the sum as a pass after it.
    [InlineData(2, 48, 13, 3, true, 0f)]
    [InlineData(1, 48, 13, 3, false, null)]
    // 5×5 with 16 channels on 56×56 at batch 1: im2col in chunks of rows shared by the threads.
    [InlineData(1, 16, 56, 5, false, 0f)]
    public void ResidualSum_FusedIntoConvolution_EveryOtherBlobEqual(int num, int channels, int size, int kernel, bool batchNorm, float? reluSlope)
    {
        Log.Quiet = true;
        var (reference, optimised) = Pair(ResidualBlock(num, channels, size, kernel, batchNorm, reluSlope), seed: 41);
        using (reference)
        using (optimised)
        {
            var lines = new List<string>();
            using (Log.Capture(lines))
            {
                optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            }
            Assert.True(optimised.Layer("sum").FusedIntoEarlierLayer, "the sum was not fused");
            Assert.Contains(lines, l => l.Contains("1 Eltwise into Convolution", StringComparison.Ordinal));
            if (reluSlope is not null)
            {
                Assert.True(optimised.Layer("relu").FusedIntoEarlierLayer, "the ReLU was not fused into the sum");
            }
            var unwritten = new HashSet<string> { "main" };
            // Without folding or Winograd (the unoptimised reference runs im2col), the same float operations in the same order: bit for bit.
            float tol = batchNorm || (kernel == 3 && channels >= 48) ? 1e-5f : 0f;
            AssertSameForward(reference, optimised, seed: 42, tol, unwritten: unwritten);
            // A second forward with a different input: the fused state holds no stale data.
            AssertSameForward(reference, optimised, seed: 43, tol, unwritten: unwritten);
        }
    }

    [Fact]
    public void ResidualSum_KeepAll_IsNotFused_AndEveryBlobEqual()
    {
        Log.Quiet = true;
        var (reference, optimised) = Pair(ResidualBlock(2, 8, 9, 3, false, 0f), seed: 44);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            Assert.False(optimised.Layer("sum").FusedIntoEarlierLayer);
            Assert.True(optimised.Layer("relu").FusedIntoEarlierLayer);
            AssertSameForward(reference, optimised, seed: 45, tol: 0f);
        }
    }

    [Fact]
    public void ResidualSum_ShortcutComputedAfterTheMainBranch_FusesIntoTheShortcut()
    {
        Log.Quiet = true;
        // "main" runs before "shortcut": when main would run, shortcut's output (the residual) is not there yet, so the
        // later convolution, the shortcut, takes the sum with main's output as its residual.
        var (reference, optimised) = Pair(ResidualBlock(2, 8, 9, 3, false, 0f, mainFirst: true), seed: 46);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            Assert.True(optimised.Layer("sum").FusedIntoEarlierLayer);
            AssertSameForward(reference, optimised, seed: 47, tol: 0f, unwritten: new HashSet<string> { "shortcut" });
        }
    }

    [Fact]
    public void ResidualSum_AfterReshape_StillEqual()
    {
        Log.Quiet = true;
        var (reference, optimised) = Pair(ResidualBlock(1, 8, 9, 3, false, 0f), seed: 48);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            AssertSameForward(reference, optimised, seed: 49, tol: 0f, unwritten: new HashSet<string> { "main" });
            foreach (var net in new[] { reference, optimised })
            {
                net.InputBlobs[0].Reshape(3, 8, 11, 11);
                net.Reshape();
            }
            AssertSameForward(reference, optimised, seed: 50, tol: 0f, unwritten: new HashSet<string> { "main" });
            Assert.Equal([3, 24, 11, 11], optimised.Blob("sum").Shape);
        }
    }

    [Theory]
    // Not unit coefficients.
    [InlineData("eltwise_param { coeff: 1 coeff: 2 }", "")]
    // The main conv's top is read by another layer too (a Split then feeds the sum).
    [InlineData("", """layer { name: "peek" type: "Pooling" bottom: "main" top: "peek" pooling_param { pool: MAX global_pooling: true } }""", "bn")]
    // A ReLU on the main branch before the sum: act(conv) + r is not act(conv + r).
    [InlineData("", """layer { name: "relu_main" type: "ReLU" bottom: "main" top: "main" }""", "bn")]
    // A product, not a sum.
    [InlineData("eltwise_param { operation: PROD }", "")]
    public void ResidualSum_NotFusable_IsLeftAlone(string coeffs, string extraLayer, string after = "main")
    {
        Log.Quiet = true;
        var param = NetBuilder.Parse(ResidualBlock(2, 8, 9, 3, true, 0f, coeffs));
        if (extraLayer.Length > 0)
        {
            var extra = NetBuilder.Parse("name: \"x\"\n" + extraLayer).Layer[0];
            int at = param.Layer.ToList().FindIndex(l => l.Name == after) + 1;
            param.Layer.Insert(at, extra);
        }
        var (reference, optimised) = Pair(param, seed: 51);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            Assert.False(optimised.Layer("sum").FusedIntoEarlierLayer);
            AssertSameForward(reference, optimised, seed: 52, tol: 1e-5f);
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ResNet50_OutputsOnly_SixteenResidualSumsFused_EveryOtherBlobEqual()
    {
        Log.Quiet = true;
        string path = RepoPaths.Get("tests", "Crema.Tests", "TestData", "models", "resnet/ResNet-50-deploy.prototxt");
        var (reference, optimised) = Pair(ProtoFiles.ReadNetText(path), seed: 53);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference(InferenceBlobs.OutputsOnly);
            var sums = optimised.Layers.Where(l => l.Type == "Eltwise").ToList();
            Assert.Equal(16, sums.Count);
            Assert.All(sums, l => Assert.True(l.FusedIntoEarlierLayer, l.Name));
            // The convolution writing each sum's "branch2c" bottom takes it (its shortcut is computed first).
            var unwritten = optimised.BlobNames.Where(n => n.EndsWith("_branch2c", StringComparison.Ordinal)).ToHashSet();
            Assert.Equal(16, unwritten.Count);
            AssertSameForward(reference, optimised, seed: 54, tol: 1e-5f, unwritten: unwritten);
        }
    }
}
