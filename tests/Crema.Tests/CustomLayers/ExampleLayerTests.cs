using Crema.Scripting;
using Crema.Layers;
using Crema.Testing;
using Xunit.Abstractions;

namespace Crema.Tests.CustomLayers;

/// <summary>The example layers of examples/custom_layers, compiled by the loader as a prototxt would, checked forward and backward.</summary>
public class ExampleLayerTests(ITestOutputHelper output)
{
    [Fact]
    public void EuclideanLoss_SteadyState_AllocatesNothing()
    {
        // Reshape runs before every Forward; with unchanged shapes it must only compare shapes.
        var param = CustomLayerFiles.Python("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        param.LossWeight.Add(1f);
        var layer = CustomLayerLoader.Create(param, CustomLayerFiles.ExamplesDir);
        var pred = TestBlobs.Gaussian(1701, 1f, 64, 1);
        var label = TestBlobs.Gaussian(1702, 1f, 64, 1);
        var top = new Blob();
        IReadOnlyList<Blob> bottoms = [pred, label];
        IReadOnlyList<Blob> tops = [top];
        IReadOnlyList<bool> propagate = [true, false];
        layer.SetUp(bottoms, tops);
        for (int i = 0; i < 100; i++)
        {
            layer.Forward(bottoms, tops);
            layer.Backward(tops, propagate, bottoms);
        }
        const int Iterations = 10_000;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++)
        {
            layer.Reshape(bottoms, tops);
        }
        double reshapeNs = watch.Elapsed.TotalNanoseconds / Iterations;
        watch.Restart();
        for (int i = 0; i < Iterations; i++)
        {
            layer.Forward(bottoms, tops);
            layer.Backward(tops, propagate, bottoms);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        double passNs = watch.Elapsed.TotalNanoseconds / Iterations;
        output.WriteLine($"Reshape (shapes unchanged): {reshapeNs:F0} ns; Forward+Backward (64 x 1): {passNs:F0} ns; allocated: {allocated} bytes");
        // Any allocation per call would cost at least 24 bytes × 10,000 iterations; a one-off of a few KB (seen once in a CI
        // run under parallel test load: 3,344 bytes, runtime-internal, not reproducible) is not a per-call allocation.
        Assert.True(allocated < Iterations, $"{allocated} bytes allocated over {Iterations} iterations: the steady state allocates per call");
    }

    private static Layer Load(string name, string module, string layer, string paramStr = "") =>
        CustomLayerLoader.Create(CustomLayerFiles.Python(name, module, layer, paramStr), CustomLayerFiles.ExamplesDir);

    [Fact]
    public void EuclideanLoss_Forward_MatchesReference()
    {
        var layer = Load("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        var pred = TestBlobs.Gaussian(1701, 1f, 10, 5, 1, 1);
        var label = TestBlobs.Gaussian(1702, 1f, 10, 5, 1, 1);
        var top = new Blob();
        layer.SetUp([pred, label], [top]);
        float loss = layer.Forward([pred, label], [top]);

        double expected = 0;
        for (int i = 0; i < pred.Count; i++)
        {
            expected += Math.Pow(pred.Data[i] - label.Data[i], 2);
        }
        expected /= 2 * 10;
        Assert.Equal(0, top.NumAxes);
        Assert.Equal(expected, top.Data[0], 4);
        Assert.Equal(0f, loss);   // no loss_weight given and a Python layer is not a loss layer by default
    }

    [Fact]
    public void EuclideanLoss_Backward_MatchesNumericGradient()
    {
        var param = CustomLayerFiles.Python("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        param.LossWeight.Add(3f);
        var layer = CustomLayerLoader.Create(param, CustomLayerFiles.ExamplesDir);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer,
            [TestBlobs.Gaussian(1701, 1f, 10, 5, 1, 1), TestBlobs.Gaussian(1702, 1f, 10, 5, 1, 1)], [new Blob()]);
    }

    [Fact]
    public void EuclideanLoss_HonoursPropagateDown()
    {
        var layer = Load("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        var pred = TestBlobs.Gaussian(1701, 1f, 4, 3);
        var label = TestBlobs.Gaussian(1702, 1f, 4, 3);
        var top = new Blob();
        layer.SetUp([pred, label], [top]);
        layer.Forward([pred, label], [top]);
        top.Diff[0] = 1;
        label.Diff.Fill(42f);
        layer.Backward([top], [true, false], [pred, label]);
        Assert.All(label.Diff.ToArray(), d => Assert.Equal(42f, d));
        Assert.Equal((pred.Data[0] - label.Data[0]) / 4, pred.Diff[0], 5);
    }

    [Fact]
    public void EuclideanLoss_CountMismatch_NamesBothShapes()
    {
        var layer = Load("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        var pred = new Blob(4, 3) { Name = "pred" };
        var label = new Blob(4, 2) { Name = "label" };
        var e = Assert.Throws<CremaException>(() => layer.SetUp([pred, label], [new Blob()]));
        Assert.Contains("Layer 'loss'", e.Message, StringComparison.Ordinal);
        Assert.Equal("Layer 'loss' (type Python): predictions 'pred' (4 3 (12)) and labels 'label' (4 2 (8)) " +
            "must have the same number of elements, got 12 and 8", e.Message);
    }

    [Fact]
    public void EuclideanLoss_WrongBottomCount_Throws()
    {
        var layer = Load("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        var e = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("exactly 2 bottoms", e.Message, StringComparison.Ordinal);
        Assert.Contains("got 1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smooth=1", 1f)]
    [InlineData("smooth=0.5", 0.5f)]
    [InlineData("{'smooth': 2}", 2f)]
    public void DiceLoss_Forward_MatchesReference(string paramStr, float smooth)
    {
        var layer = Load("dice", "dice_loss.cs", "DiceLossLayer", paramStr);
        var prob = TestBlobs.Uniform(1701, 0f, 1f, 2, 1, 4, 5);
        var mask = Mask(1702, 2, 1, 4, 5);
        var top = new Blob();
        layer.SetUp([prob, mask], [top]);
        layer.Forward([prob, mask], [top]);

        double dice = 0;
        for (int s = 0; s < 2; s++)
        {
            double inter = 0, sum = 0;
            for (int i = s * 20; i < (s + 1) * 20; i++)
            {
                inter += prob.Data[i] * mask.Data[i];
                sum += prob.Data[i] + mask.Data[i];
            }
            dice += (2 * inter + smooth) / (sum + smooth);
        }
        Assert.Equal(1 - dice / 2, top.Data[0], 5);
    }

    [Fact]
    public void DiceLoss_Backward_MatchesNumericGradient()
    {
        var param = CustomLayerFiles.Python("dice", "dice_loss.cs", "DiceLossLayer", "smooth=1");
        param.LossWeight.Add(1f);
        var layer = CustomLayerLoader.Create(param, CustomLayerFiles.ExamplesDir);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer,
            [TestBlobs.Uniform(1701, 0.05f, 0.95f, 2, 1, 4, 5), Mask(1702, 2, 1, 4, 5)], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void DiceLoss_RefusesGradientToMask()
    {
        var layer = Load("dice", "dice_loss.cs", "DiceLossLayer");
        Assert.False(layer.AllowForceBackward(1));
        var prob = TestBlobs.Uniform(1701, 0f, 1f, 2, 3);
        var mask = Mask(1702, 2, 3);
        var top = new Blob();
        layer.SetUp([prob, mask], [top]);
        layer.Forward([prob, mask], [top]);
        var e = Assert.Throws<CremaException>(() => layer.Backward([top], [true, true], [prob, mask]));
        Assert.Contains("mask", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smoth=1", "unknown key(s) smoth")]
    [InlineData("smooth=abc", "'smooth' must be a number, got 'abc'")]
    [InlineData("smooth=-1", "smooth must be >= 0, got -1")]
    public void DiceLoss_BadParamStr_Throws(string paramStr, string expected)
    {
        var layer = Load("dice", "dice_loss.cs", "DiceLossLayer", paramStr);
        var e = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(2, 3), new Blob(2, 3)], [new Blob()]));
        Assert.Contains("Layer 'dice'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MeanResidual_Forward_MatchesReference()
    {
        var layer = Load("split", "mean_residual.cs", "MeanResidualLayer");
        var x = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var mean = new Blob();
        var residual = new Blob();
        layer.SetUp([x], [mean, residual]);
        layer.Forward([x], [mean, residual]);
        Assert.Equal([2, 1], mean.Shape);
        Assert.Equal(x.Shape, residual.Shape);
        for (int r = 0; r < 2; r++)
        {
            double m = 0;
            for (int i = 0; i < 60; i++)
            {
                m += x.Data[r * 60 + i];
            }
            m /= 60;
            Assert.Equal(m, mean.Data[r], 5);
            for (int i = 0; i < 60; i++)
            {
                Assert.Equal(x.Data[r * 60 + i] - m, residual.Data[r * 60 + i], 5);
            }
        }
    }

    [Fact]
    public void MeanResidual_Backward_MatchesNumericGradient()
    {
        var layer = Load("split", "mean_residual.cs", "MeanResidualLayer");
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5)], [new Blob(), new Blob()]);
    }

    [Fact]
    public void ChannelAffine_CreatesLearnableBlobsFromParamStr()
    {
        var layer = Load("affine", "channel_affine.cs", "ChannelAffineLayer", "scale=2, bias=0.5");
        var x = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var y = new Blob();
        layer.SetUp([x], [y]);
        layer.Forward([x], [y]);
        Assert.Equal(2, layer.Blobs.Count);
        Assert.Equal([3], layer.Blobs[0].Shape);
        Assert.All(layer.Blobs[0].Data.ToArray(), v => Assert.Equal(2f, v));
        Assert.All(layer.Blobs[1].Data.ToArray(), v => Assert.Equal(0.5f, v));
        Assert.Equal(2 * x.Data[7] + 0.5f, y.Data[7], 6);
    }

    [Fact]
    public void ChannelAffine_Backward_MatchesNumericGradient_IncludingParameters()
    {
        var layer = Load("affine", "channel_affine.cs", "ChannelAffineLayer", "scale=1.5, bias=-0.25");
        var x = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var y = new Blob();
        layer.SetUp([x], [y]);
        // Make the per-channel values distinct so a channel mix-up shows.
        layer.Blobs[0].Data[1] = -0.7f;
        layer.Blobs[1].Data[2] = 0.3f;
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [x], [y]);
    }

    [Fact]
    public void ChannelAffine_KeepsBlobsGivenInLayerParameter()
    {
        var param = CustomLayerFiles.Python("affine", "channel_affine.cs", "ChannelAffineLayer");
        param.Blobs.Add(new Blob(3) { }.ToProto());
        param.Blobs.Add(new Blob(3).ToProto());
        param.Blobs[0].Data[1] = 4f;
        var layer = CustomLayerLoader.Create(param, CustomLayerFiles.ExamplesDir);
        layer.SetUp([TestBlobs.Gaussian(1701, 1f, 2, 3)], [new Blob()]);
        Assert.Equal(4f, layer.Blobs[0].Data[1]);
        Assert.Equal(0f, layer.Blobs[0].Data[0]);
    }

    internal static Blob Mask(int seed, params int[] shape)
    {
        var blob = TestBlobs.Uniform(seed, 0f, 1f, shape);
        var data = blob.Data;
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = data[i] > 0.5f ? 1f : 0f;
        }
        return blob;
    }
}
