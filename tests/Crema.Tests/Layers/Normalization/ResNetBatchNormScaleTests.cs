using System.Diagnostics;
using Crema.Fillers;
using Crema.Layers;
using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Layers;

/// <summary>BatchNorm + Scale as ResNet-50's deploy prototxt uses them (in place, use_global_stats given), built by a Net in both phases.</summary>
public class ResNetBatchNormScaleTests
{
    private static string ResNetPath => Path.Combine(AppContext.BaseDirectory, "TestData", "models", "resnet", "ResNet-50-deploy.prototxt");

    // input → conv1 → bn_conv1 → scale_conv1 → conv1_relu → pool1, taken unchanged from the real file.
    private static NetParameter Stem(bool? useGlobalStats)
    {
        var full = ProtoFiles.ReadNetText(ResNetPath);
        var stem = new NetParameter { Name = "resnet-stem" };
        foreach (var layer in full.Layer)
        {
            stem.Layer.Add(layer.Clone());
            if (layer.Name == "pool1")
            {
                break;
            }
        }
        var bn = stem.Layer.Single(l => l.Type == "BatchNorm");
        if (useGlobalStats is bool g)
        {
            bn.BatchNormParam.UseGlobalStats = g;
        }
        else
        {
            bn.BatchNormParam?.ClearUseGlobalStats();
        }
        return stem;
    }

    // The deploy file has no fillers, so every convolution starts at 0: give them He-initialised weights.
    private static void FillConvolutions(Net net)
    {
        Rng.Seed(1701);
        foreach (var layer in net.Layers.OfType<ConvolutionLayer>())
        {
            Filler.Fill(layer.Blobs[0], new FillerParameter { Type = "msra" });
        }
    }

    [Theory]
    [InlineData(Phase.Train)]
    [InlineData(Phase.Test)]
    public void Stem_BuildsAndRuns_WithPhaseDefaultStatistics(Phase phase)
    {
        var net = new Net(Stem(null), phase);
        Assert.Equal(["input", "conv1", "bn_conv1", "scale_conv1", "conv1_relu", "pool1"], net.LayerNames);
        var bn = (BatchNormLayer)net.Layer("bn_conv1");
        Assert.Equal(phase == Phase.Test, bn.UseGlobalStats);
        FillConvolutions(net);
        TestBlobs.Gaussian(1701, 1f, 1, 3, 224, 224).Data.CopyTo(net.InputBlobs[0].Data);
        if (phase == Phase.Train)
        {
            // Up to the in-place BatchNorm: conv1's blob is standardized per channel over its 112×112 positions.
            net.Forward(null, "bn_conv1");
            var conv1 = net.Blobs["conv1"].Data.ToArray();
            for (int c = 0; c < 64; c += 9)
            {
                var channel = conv1.AsSpan(c * 112 * 112, 112 * 112).ToArray();
                double mean = channel.Average(v => (double)v);
                Assert.Equal(0, mean, 1e-3);
                Assert.Equal(1, channel.Average(v => (v - mean) * (v - mean)), 1e-2);
            }
        }
        net.Forward();
        Assert.Equal([1, 64, 56, 56], net.Blobs["pool1"].Shape);
        Assert.All(net.Blobs["pool1"].Data.ToArray(), v => Assert.True(float.IsFinite(v)));

        // The statistics are masked from the solver; the Scale's two blobs are learnable.
        int first = net.LearnableParams.ToList().IndexOf(bn.Blobs[0]);
        Assert.Equal([0f, 0f, 0f], net.ParamLrMults.Skip(first).Take(3));
        Assert.Equal(1f, net.ParamLrMults[first + 3]);
        if (phase == Phase.Train)
        {
            // Two TRAIN forwards so far: s = 0.999·1 + 1.
            Assert.Equal(1.999f, bn.Blobs[2].Data[0], 1e-6f);
            net.Backward();
            Assert.All(bn.Blobs, b => Assert.All(b.Diff.ToArray(), d => Assert.Equal(0f, d)));
        }
        else
        {
            Assert.Equal(0f, bn.Blobs[2].Data[0]);
        }
    }

    [Fact]
    public void ResNet50Deploy_BuildsAndRunsOneForward()
    {
        var param = ProtoFiles.ReadNetText(ResNetPath);
        var missing = param.Layer.Select(l => l.Type).Distinct().Where(t => !LayerRegistry.IsRegistered(t)).ToArray();
        Assert.True(missing.Length == 0, $"layer types not registered: {string.Join(", ", missing)}");
        var watch = Stopwatch.StartNew();
        var net = new Net(param, Phase.Test);
        Assert.Equal(53, net.Layers.Count(l => l is BatchNormLayer b && b.UseGlobalStats));
        Assert.Equal(53, net.Layers.Count(l => l is ScaleLayer));
        // Stored statistics as after one TRAIN pass of a standardized batch (μ = 0, σ² = 1, s = 1); zero sums would
        // make every BatchNorm multiply by 1/sqrt(eps).
        foreach (var bn in net.Layers.OfType<BatchNormLayer>())
        {
            bn.Blobs[1].Data.Fill(1);
            bn.Blobs[2].Data.Fill(1);
        }
        FillConvolutions(net);
        FillConvolutions(net);
        TestBlobs.Gaussian(1701, 1f, 1, 3, 224, 224).Data.CopyTo(net.InputBlobs[0].Data);
        net.Forward();
        var prob = net.OutputBlobs[0];
        Assert.Equal(1000, prob.Count);
        Assert.All(prob.Data.ToArray(), p => Assert.True(float.IsFinite(p)));
        Assert.Equal(1f, prob.Data.ToArray().Sum(), 1e-3f);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"ResNet-50 set-up + forward took {watch.Elapsed}");
    }
}
