using System.Numerics.Tensors;
using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Nets;

/// <summary>
/// Net.OptimizeForInference: every blob of the folded/fused net equals the unoptimised net built from the same prototxt
/// and weights (ResNet-shaped blocks with random weights and BatchNorm statistics; SqueezeNet with its real weights;
/// ResNet-50 and MobileNet with random weights), and what must not be folded is not.
/// </summary>
public partial class InferenceOptimizationTests
{
    // 48 → 48 channels, 3×3 stride 1, 2 × 16 output tiles of 4×4: shapes a frozen convolution runs by its Winograd path, which
    // must then apply the folded bias and the fused activation too.
    private static string Block(bool convBias, bool scaleBias, float slope) => $$"""
        name: "block"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 48 dim: 13 dim: 13 } } }
        layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          convolution_param { num_output: 48 kernel_size: 3 pad: 1 bias_term: {{Lower(convBias)}} } }
        layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
        layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: {{Lower(scaleBias)}} } }
        layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: {{slope.ToString(System.Globalization.CultureInfo.InvariantCulture)}} } }
        layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
          convolution_param { num_output: 48 kernel_size: 3 pad: 1 stride: 1 bias_term: {{Lower(!convBias)}} } }
        layer { name: "bn2" type: "BatchNorm" bottom: "conv2" top: "conv2" }
        layer { name: "scale2" type: "Scale" bottom: "conv2" top: "conv2" scale_param { bias_term: {{Lower(scaleBias)}} } }
        layer { name: "shortcut" type: "Convolution" bottom: "data" top: "shortcut"
          convolution_param { num_output: 48 kernel_size: 1 bias_term: false } }
        layer { name: "bn_sc" type: "BatchNorm" bottom: "shortcut" top: "shortcut" }
        layer { name: "sum" type: "Eltwise" bottom: "conv2" bottom: "shortcut" top: "sum" eltwise_param { coeff: 1 coeff: -0.5 } }
        layer { name: "relu_sum" type: "ReLU" bottom: "sum" top: "sum" relu_param { negative_slope: {{slope.ToString(System.Globalization.CultureInfo.InvariantCulture)}} } }
        layer { name: "pool" type: "Pooling" bottom: "sum" top: "pool" pooling_param { pool: AVE global_pooling: true } }
        """;

    private static string Lower(bool b) => b ? "true" : "false";

    [Theory]
    [InlineData(true, true, 0f)]
    [InlineData(false, true, 0f)]
    [InlineData(true, false, 0.1f)]
    [InlineData(false, false, 0f)]
    public void ResNetBlock_FoldedAndFused_EqualsUnoptimised(bool convBias, bool scaleBias, float slope)
    {
        Log.Quiet = true;
        var (reference, optimised) = Pair(Block(convBias, scaleBias, slope), seed: 1701);
        using (reference)
        using (optimised)
        {
            var original = Snapshot(optimised);
            var lines = new List<string>();
            using (Log.Capture(lines))
            {
                optimised.OptimizeForInference();
            }
            foreach (string name in new[] { "bn1", "scale1", "relu1", "bn2", "scale2", "bn_sc", "relu_sum" })
            {
                Assert.True(optimised.Layer(name).FusedIntoEarlierLayer, $"{name} was not folded or fused");
            }
            Assert.Contains(lines, l => l.Contains("Optimized net \"block\" for inference: 3 BatchNorm into Convolution, 2 Scale into Convolution, 1 ReLU into Convolution, 1 ReLU into Eltwise; 7 of", StringComparison.Ordinal));
            AssertSameForward(reference, optimised, seed: 7, tol: 1e-5f);
            // Both 3×3 convolutions ran the Winograd path, with the folded bias and (conv1) the fused ReLU in its output step.
            Assert.True(((Crema.Layers.ConvolutionLayer)optimised.Layer("conv1")).HasWinogradCache, "conv1 did not take the Winograd path");
            Assert.True(((Crema.Layers.ConvolutionLayer)optimised.Layer("conv2")).HasWinogradCache, "conv2 did not take the Winograd path");
            // The learnable blobs are untouched: Params (and so Save) still give the originals.
            AssertSameParams(original, optimised);
        }
    }

    [Fact]
    public void NotInPlaceBatchNorm_IsNotFolded()
    {
        Log.Quiet = true;
        const string proto = """
            name: "np"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 6 dim: 6 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 } }
            layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "bn1" }
            layer { name: "scale1" type: "Scale" bottom: "bn1" top: "bn1" }
            layer { name: "relu1" type: "ReLU" bottom: "bn1" top: "bn1" }
            """;
        var (reference, optimised) = Pair(proto, seed: 3);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            Assert.All(optimised.Layers, l => Assert.False(l.FusedIntoEarlierLayer, l.Name));
            // conv1 keeps the raw convolution, readable after Forward as before.
            AssertSameForward(reference, optimised, seed: 4, tol: 0f);
        }
    }

    [Fact]
    public void LayerUsingTheConvTopInBetween_StopsTheFold()
    {
        Log.Quiet = true;
        // power1 rewrites conv1 before bn1 (so bn1 must see power1's output), and power2 sits between bn2 and scale2.
        // (A layer merely reading conv1 before bn1 gets a Split copy and makes bn1 not in place: see the test above.)
        const string proto = """
            name: "between"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 6 dim: 6 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 } }
            layer { name: "power1" type: "Power" bottom: "conv1" top: "conv1" power_param { power: 2 shift: 0.5 } }
            layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
            layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
            layer { name: "conv2" type: "Convolution" bottom: "data" top: "conv2" convolution_param { num_output: 4 kernel_size: 3 } }
            layer { name: "bn2" type: "BatchNorm" bottom: "conv2" top: "conv2" }
            layer { name: "power2" type: "Power" bottom: "conv2" top: "conv2" power_param { scale: -1 } }
            layer { name: "scale2" type: "Scale" bottom: "conv2" top: "conv2" }
            layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
            """;
        var (reference, optimised) = Pair(proto, seed: 5);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            Assert.Equal(["bn2"], optimised.Layers.Where(l => l.FusedIntoEarlierLayer).Select(l => l.Name));
            AssertSameForward(reference, optimised, seed: 6, tol: 1e-5f);
        }
    }

    [Fact]
    public void ScaleWithSecondBottom_AndBatchNormWithBatchStatistics_AreNotFolded()
    {
        Log.Quiet = true;
        const string proto = """
            name: "nofold"
            layer { name: "data" type: "Input" top: "data" top: "s" input_param { shape { dim: 2 dim: 3 dim: 6 dim: 6 } shape { dim: 4 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 } }
            layer { name: "scale1" type: "Scale" bottom: "conv1" bottom: "s" top: "conv1" scale_param { axis: 1 } }
            layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
            layer { name: "conv2" type: "Convolution" bottom: "data" top: "conv2" convolution_param { num_output: 4 kernel_size: 3 } }
            layer { name: "bn2" type: "BatchNorm" bottom: "conv2" top: "conv2" batch_norm_param { use_global_stats: false } }
            layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
            """;
        var (reference, optimised) = Pair(proto, seed: 8);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            Assert.All(optimised.Layers, l => Assert.False(l.FusedIntoEarlierLayer, l.Name));
            AssertSameForward(reference, optimised, seed: 9, tol: 0f);
        }
    }

    [Fact]
    public void Train_Throws_AndBackwardAfterOptimizeThrows()
    {
        Log.Quiet = true;
        using var train = NetBuilder.Build(Block(true, true, 0), Phase.Train);
        var e = Assert.Throws<CremaException>(() => train.OptimizeForInference());
        Assert.Contains("'block'", e.Message, StringComparison.Ordinal);
        Assert.Contains("TEST", e.Message, StringComparison.Ordinal);

        using var test = NetBuilder.Build(Block(true, true, 0), Phase.Test);
        test.Backward();
        test.OptimizeForInference();
        Assert.True(test.OptimizedForInference);
        Assert.True(test.Layers.All(l => l.InferenceFrozen));
        var b = Assert.Throws<CremaException>(test.Backward);
        Assert.Contains("optimized for inference", b.Message, StringComparison.Ordinal);
        Assert.Throws<CremaException>(() => test.ForwardBackward());
    }

    [Fact]
    public void OptimizingAgain_AfterChangingWeights_RefoldsFromTheBlobs()
    {
        Log.Quiet = true;
        var (reference, optimised) = Pair(Block(true, true, 0), seed: 11);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            foreach (var net in new[] { reference, optimised })
            {
                var w = net.Params["conv1"][0].Data;
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] *= -1.5f;
                }
                net.Params["bn1"][1].Data[2] *= 4f;
            }
            Fill(optimised.InputBlobs[0], 12);
            Fill(reference.InputBlobs[0], 12);
            reference.Forward();
            optimised.Forward();
            // The folded copies were computed from the old weights …
            Assert.NotEqual(reference.Blob("conv1").Data.ToArray(), optimised.Blob("conv1").Data.ToArray());
            // … and are recomputed by calling it again.
            optimised.OptimizeForInference();
            AssertSameForward(reference, optimised, seed: 12, tol: 1e-5f);
        }
    }

    // A convolution with nothing to fold still caches derived weights (Winograd's transform); optimising again after an
    // in-place edit of one weight (one the cache's spot check does not look at) must rebuild them.
    [Fact]
    public void OptimizingAgain_AfterEditingAnUnfoldedConvolution_RebuildsItsCachedWeights()
    {
        Log.Quiet = true;
        const string proto = """
            name: "plain"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 48 dim: 13 dim: 13 } } }
            layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 48 kernel_size: 3 pad: 1 } }
            """;
        var (reference, optimised) = Pair(proto, seed: 13);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            Fill(optimised.InputBlobs[0], 14);
            optimised.Forward();
            Assert.True(((Crema.Layers.ConvolutionLayer)optimised.Layer("conv")).HasWinogradCache, "conv did not take the Winograd path");
            foreach (var net in new[] { reference, optimised })
            {
                net.Params["conv"][0].Data[1] += 5f;
            }
            optimised.OptimizeForInference();
            AssertSameForward(reference, optimised, seed: 14, tol: 1e-5f);
        }
    }

    // A frozen InnerProduct from 3 rows on multiplies by weights packed once (Gemm.Prepack); fewer rows stream them as
    // they lie. Either equals the unfrozen net; the packed copy follows edits (by its spot check, or by optimising again).
    [Theory]
    [InlineData(1, false)]
    [InlineData(5, true)]
    [InlineData(20, true)]
    public void FrozenInnerProduct_PackedWeights_EqualUnoptimised_AndFollowEdits(int batch, bool packed)
    {
        Log.Quiet = true;
        string proto = $$"""
            name: "fc"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: {{batch}} dim: 3 dim: 7 dim: 11 } } }
            layer { name: "fc1" type: "InnerProduct" bottom: "data" top: "fc1" inner_product_param { num_output: 70 } }
            layer { name: "fc2" type: "InnerProduct" bottom: "fc1" top: "fc2" inner_product_param { num_output: 33 transpose: true } }
            layer { name: "fc3" type: "InnerProduct" bottom: "fc2" top: "fc3" inner_product_param { num_output: 9 bias_term: false } }
            """;
        var (reference, optimised) = Pair(proto, seed: 21);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            AssertSameForward(reference, optimised, seed: 22, tol: 1e-5f);
            foreach (string fc in new[] { "fc1", "fc2", "fc3" })
            {
                Assert.Equal(packed, ((Crema.Layers.InnerProductLayer)optimised.Layer(fc)).HasPackedWeights);
            }
            // Every weight changed (the spot check sees it without optimising again) …
            foreach (var net in new[] { reference, optimised })
            {
                var w = net.Params["fc2"][0].Data;
                for (int i = 0; i < w.Length; i++)
                {
                    w[i] *= -1.5f;
                }
            }
            AssertSameForward(reference, optimised, seed: 23, tol: 1e-5f);
            // … one weight the spot check does not look at, then optimised again.
            foreach (var net in new[] { reference, optimised })
            {
                net.Params["fc1"][0].Data[1] += 5f;
            }
            optimised.OptimizeForInference();
            AssertSameForward(reference, optimised, seed: 24, tol: 1e-5f);
        }
    }

    // Frozen, a 1×1 convolution over a 7×7 map runs transposed (Xᵀ · Wᵀ packed once, then transposed back with bias and
    // activation); a 14×14 map, a grouped one and a 3×3 one (40 channels: not Winograd either) do not. Batch 3 runs as parts
    // on 2 threads sharing the packed copy.
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void FrozenOneByOne_OnSmallMaps_RunsTransposed_EqualsUnoptimised(int batch)
    {
        Log.Quiet = true;
        string proto = $$"""
            name: "one_by_one"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: {{batch}} dim: 40 dim: 7 dim: 7 } } }
            layer { name: "a" type: "Convolution" bottom: "data" top: "a" convolution_param { num_output: 70 kernel_size: 1 } }
            layer { name: "bn" type: "BatchNorm" bottom: "a" top: "a" }
            layer { name: "relu" type: "ReLU" bottom: "a" top: "a" relu_param { negative_slope: 0.1 } }
            layer { name: "b" type: "Convolution" bottom: "a" top: "b" convolution_param { num_output: 33 kernel_size: 1 bias_term: false } }
            layer { name: "g" type: "Convolution" bottom: "b" top: "g" convolution_param { num_output: 22 kernel_size: 1 group: 11 } }
            layer { name: "wide" type: "Input" top: "wide" input_param { shape { dim: {{batch}} dim: 8 dim: 14 dim: 14 } } }
            layer { name: "c" type: "Convolution" bottom: "wide" top: "c" convolution_param { num_output: 16 kernel_size: 1 } }
            layer { name: "k3" type: "Convolution" bottom: "data" top: "k3" convolution_param { num_output: 24 kernel_size: 3 pad: 1 } }
            layer { name: "k3relu" type: "ReLU" bottom: "k3" top: "k3" }
            """;
        var (reference, optimised) = Pair(proto, seed: 31);
        using (reference)
        using (optimised)
        {
            optimised.OptimizeForInference();
            AssertSameForward(reference, optimised, seed: 32, tol: 1e-5f);
            bool Transposed(string name) => ((Crema.Layers.ConvolutionLayer)optimised.Layer(name)).HasTransposedWeights;
            // 49 positions fill 49 of 64 AVX-512 lanes against 49 of 54 rows transposed; with 8-float vectors (56) too few gain.
            bool expected = Crema.Kernels.Gemm.Path == "Vector512";
            Assert.True(Transposed("a") == expected && Transposed("b") == expected, $"the 7x7 1x1 convolutions: transposed should be {expected}");
            Assert.False(Transposed("g") || Transposed("c") || Transposed("k3"), "a grouped, 14x14 or 3x3 convolution ran transposed");
            // An edit the spot check misses, applied by optimising again.
            foreach (var net in new[] { reference, optimised })
            {
                net.Params["b"][0].Data[1] += 5f;
            }
            optimised.OptimizeForInference();
            AssertSameForward(reference, optimised, seed: 33, tol: 1e-5f);
        }
    }

    [Fact]
    public void SqueezeNet_RealWeights_ConvReluFused_EveryBlobEqual()
    {
        Log.Quiet = true;
        var (reference, optimised) = SqueezeNetPair();
        using var r = reference;
        using var o = optimised;
        optimised.OptimizeForInference();
        // Every ReLU of SqueezeNet follows a convolution in place.
        var relus = optimised.Layers.Where(l => l.Type == "ReLU").ToArray();
        Assert.Equal(26, relus.Length);
        Assert.All(relus, l => Assert.True(l.FusedIntoEarlierLayer, l.Name));
        // Bias then ReLU in one pass does the same float operations as two passes (equal to the bit on the im2col path);
        // a frozen net may also run 3×3 layers by another algorithm (Winograd), hence the tolerance.
        AssertSameForward(reference, optimised, seed: 13, tol: 1e-5f, std: 50f);
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("resnet/ResNet-50-deploy.prototxt", 53, 53, 49)]
    [InlineData("mobilenet/mobilenet_deploy.prototxt", 27, 27, 27)]
    public void BundledModel_RandomWeights_EveryBatchNormScaleReluFolded_EqualsUnoptimised(string model, int batchNorms, int scales, int relus)
    {
        Log.Quiet = true;
        string path = RepoPaths.Get("tests", "Crema.Tests", "TestData", "models", model);
        var (reference, optimised) = Pair(ProtoFiles.ReadNetText(path), seed: 17);
        using (reference)
        using (optimised)
        {
            var original = Snapshot(optimised);
            optimised.OptimizeForInference();
            Assert.Equal(batchNorms, optimised.Layers.Count(l => l.Type == "BatchNorm" && l.FusedIntoEarlierLayer));
            Assert.Equal(scales, optimised.Layers.Count(l => l.Type == "Scale" && l.FusedIntoEarlierLayer));
            Assert.Equal(relus, optimised.Layers.Count(l => l.Type == "ReLU" && l.FusedIntoEarlierLayer));
            AssertSameForward(reference, optimised, seed: 18, tol: 1e-5f);
            AssertSameParams(original, optimised);
        }
    }

    // Two TEST SqueezeNets with the real (bundled) weights.
    private static (Net Reference, Net Optimised) SqueezeNetPair()
    {
        string dir = RepoPaths.Get("examples", "feature_extraction");
        NetParameter Proto() => ProtoFiles.ReadNetText(Path.Combine(dir, "SqueezeNet_deploy.prototxt"));
        var reference = new Net(Proto(), Phase.Test, dir);
        var optimised = new Net(Proto(), Phase.Test, dir);
        reference.CopyTrainedLayersFrom(Path.Combine(dir, "squeezenet_v1.0_decoded.caffemodel"));
        optimised.CopyTrainedLayersFrom(Path.Combine(dir, "squeezenet_v1.0_decoded.caffemodel"));
        return (reference, optimised);
    }

    // Two TEST nets from one prototxt with the same random weights and BatchNorm statistics (copied through ToProto).
    private static (Net Reference, Net Optimised) Pair(string prototxt, int seed) => Pair(NetBuilder.Parse(prototxt), seed);

    private static (Net Reference, Net Optimised) Pair(NetParameter param, int seed)
    {
        var reference = new Net(param.Clone(), Phase.Test);
        Randomize(reference, seed);
        var optimised = new Net(param.Clone(), Phase.Test);
        optimised.CopyTrainedLayersFrom(reference.ToProto());
        return (reference, optimised);
    }

    // He-scaled weights; BatchNorm sums weighted by a scale factor s ≠ 1, variances well away from 0 and 1.
    private static void Randomize(Net net, int seed)
    {
        var random = new Random(seed);
        float Gauss(double std) => (float)(std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        foreach (var layer in net.Layers)
        {
            var blobs = layer.Blobs;
            switch (layer.Type)
            {
                case "Convolution":
                case "InnerProduct":
                    double std = Math.Sqrt(2.0 / (blobs[0].Count / blobs[0].Shape[0]));
                    Fill(blobs[0].Data, _ => Gauss(std));
                    if (blobs.Count > 1)
                    {
                        Fill(blobs[1].Data, _ => Gauss(0.2));
                    }
                    break;
                case "BatchNorm":
                    float s = 0.5f + (float)random.NextDouble();
                    Fill(blobs[0].Data, _ => Gauss(0.5) * s);
                    Fill(blobs[1].Data, _ => (0.2f + (2.5f * (float)random.NextDouble())) * s);
                    blobs[2].Data[0] = s;
                    break;
                case "Scale" when blobs.Count > 0:
                    Fill(blobs[0].Data, _ => 0.5f + (float)random.NextDouble());
                    if (blobs.Count > 1)
                    {
                        Fill(blobs[1].Data, _ => Gauss(0.3));
                    }
                    break;
            }
        }
    }

    private static void Fill(Span<float> data, Func<int, float> value)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = value(i);
        }
    }

    private static void Fill(Blob blob, int seed, float std = 1f) => TestBlobs.Gaussian(seed, std, blob.Shape.ToArray()).Data.CopyTo(blob.Data);

    // Same input into both nets, Forward, then every blob of the reference against the blob of the same name.
    // unwritten: blobs the optimised net leaves unwritten (InferenceBlobs.OutputsOnly), not compared.
    private static void AssertSameForward(Net reference, Net optimised, int seed, float tol, float std = 1f, IReadOnlySet<string>? unwritten = null)
    {
        for (int i = 0; i < reference.InputBlobs.Count; i++)
        {
            Fill(reference.InputBlobs[i], seed + i, std);
            Fill(optimised.InputBlobs[i], seed + i, std);
        }
        reference.Forward();
        optimised.Forward();
        Assert.Equal(reference.BlobNames, optimised.BlobNames);
        foreach (string name in reference.BlobNames.Where(n => unwritten is null || !unwritten.Contains(n)))
        {
            ReadOnlySpan<float> expected = reference.Blob(name).Data, actual = optimised.Blob(name).Data;
            Assert.True(expected.Length > 0, name);
            if (tol == 0)
            {
                Assert.True(expected.SequenceEqual(actual), $"blob {name} differs");
            }
            else
            {
                // Folding rounds W·a[c] once instead of rounding W·x and then ·a[c]: the difference is relative to the
                // size of the blob's values (a near-zero sum of large terms moves by the same absolute amount).
                float scale = Math.Max(1f, Math.Abs(TensorPrimitives.MaxMagnitude(expected)));
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * scale,
                        $"blob {name}[{i}]: expected {expected[i]}, got {actual[i]} (tolerance {tol} × {scale})");
                }
            }
        }
    }

    private static Dictionary<string, float[][]> Snapshot(Net net) =>
        net.Params.ToDictionary(kv => kv.Key, kv => kv.Value.Select(b => b.Data.ToArray()).ToArray());

    private static void AssertSameParams(Dictionary<string, float[][]> original, Net net)
    {
        Assert.Equal(original.Keys.Order(), net.Params.Keys.Order());
        foreach (var (name, blobs) in original)
        {
            for (int i = 0; i < blobs.Length; i++)
            {
                Assert.True(blobs[i].AsSpan().SequenceEqual(net.Params[name][i].Data), $"{name} blob {i} changed");
            }
        }
    }
}
