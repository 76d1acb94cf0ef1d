using System.Globalization;
using Crema.Layers;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;
using Crema.Testing;
using Xunit.Abstractions;

namespace Crema.Tests.CustomLayers;

/// <summary>The example prototxts: their Python layers load from the prototxt's own LayerParameter, pass the gradient check, and train.</summary>
public class ExamplePrototxtTests(ITestOutputHelper output)
{
    private static LayerParameter LayerFrom(string prototxt, string layerName) =>
        ProtoFiles.ReadNetText(Path.Combine(CustomLayerFiles.ExamplesDir, prototxt)).Layer.Single(l => l.Name == layerName);

    private static Layer Create(LayerParameter param) => LayerRegistry.Create(param, CustomLayerFiles.ExamplesDir);

    [Fact]
    public void EveryPythonLayerInTheExamples_Loads()
    {
        int loaded = 0;
        foreach (string file in Directory.GetFiles(CustomLayerFiles.ExamplesDir, "*.prototxt"))
        {
            if (file.EndsWith("_solver.prototxt", StringComparison.Ordinal))
            {
                continue;
            }
            var net = ProtoFiles.ReadNetText(file);
            foreach (var lp in net.Layer.Where(l => l.Type == "Python"))
            {
                Assert.IsAssignableFrom<Layer>(Create(lp));
                loaded++;
            }
        }
        Assert.Equal(4, loaded);
    }

    [Fact]
    public void LinRegLoss_FromPrototxt_PassesGradientCheck()
    {
        var layer = Create(LayerFrom("linreg.prototxt", "loss"));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer,
            [TestBlobs.Gaussian(1701, 1f, 64, 1), TestBlobs.Gaussian(1702, 1f, 64, 1)], [new Blob()]);
    }

    [Fact]
    public void DiceLoss_FromPrototxt_PassesGradientCheck()
    {
        var param = LayerFrom("dice_segmentation.prototxt", "dice");
        Assert.Equal("smooth=1", param.PythonParam.ParamStr);
        var layer = Create(param);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer,
            [TestBlobs.Uniform(1701, 0.05f, 0.95f, 2, 1, 8, 8), ExampleLayerTests.Mask(1702, 2, 1, 8, 8)], [new Blob()], checkBottom: 0);
    }

    [Fact]
    public void MeanResidual_FromPrototxt_PassesGradientCheck()
    {
        var layer = Create(LayerFrom("mean_residual.prototxt", "split"));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [TestBlobs.Gaussian(1701, 1f, 4, 10)], [new Blob(), new Blob()]);
    }

    [Fact]
    public void ChannelAffine_FromPrototxt_PassesGradientCheck()
    {
        var layer = Create(LayerFrom("channel_affine.prototxt", "affine"));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 4)], [new Blob()]);
    }

    [Fact]
    public void DiceSegmentationNet_RunsForwardBackward_WithNoGradientToTheMask()
    {
        string path = Path.Combine(CustomLayerFiles.ExamplesDir, "dice_segmentation.prototxt");
        using var net = new Net(ProtoFiles.ReadNetText(path), Phase.Train, CustomLayerFiles.ExamplesDir);
        TestBlobs.Gaussian(1701, 1f, 2, 1, 8, 8).Data.CopyTo(net.Blob("image").Data);
        ExampleLayerTests.Mask(1702, 2, 1, 8, 8).Data.CopyTo(net.Blob("mask").Data);
        net.Blob("mask").Diff.Fill(42f);
        float loss = net.ForwardBackward();
        output.WriteLine($"dice loss {loss:G6}");
        Assert.InRange(loss, 0f, 1f);
        Assert.True(net.Params["score"][0].SumSquareDiff() > 0, "no gradient reached the convolution");
        Assert.All(net.Blob("mask").Diff.ToArray(), d => Assert.Equal(42f, d));
    }

    [Fact]
    public void LinRegSolver_TrainsToKnownWeights()
    {
        float[] trueWeights = [1.5f, -2f, 0.5f];
        const float trueBias = 0.25f;
        using var solver = SolverFactory.FromFile(Path.Combine(CustomLayerFiles.ExamplesDir, "linreg_solver.prototxt"));
        var data = solver.Net.Blob("data");
        var label = solver.Net.Blob("label");
        TestBlobs.Gaussian(1701, 1f, 64, 3).Data.CopyTo(data.Data);
        for (int n = 0; n < 64; n++)
        {
            label.Data[n] = trueBias + trueWeights[0] * data.Data[3 * n] + trueWeights[1] * data.Data[3 * n + 1] + trueWeights[2] * data.Data[3 * n + 2];
        }
        var losses = new List<float>();
        solver.IterationCompleted += (_, l) => losses.Add(l);
        solver.Step(solver.Param.MaxIter);

        var weights = solver.Net.Params["ip"][0];
        var bias = solver.Net.Params["ip"][1];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loss: iteration 0 {losses[0]:G6}, 50 {losses[50]:G6}, 100 {losses[100]:G6}, 199 {losses[^1]:G6}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"W = [{string.Join(", ", weights.Data.ToArray().Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))}], b = {bias.Data[0]:F4}"));
        Assert.Equal([1, 3], weights.Shape);
        TestBlobs.AssertClose(trueWeights, weights.Data, 1e-3f);
        Assert.Equal(trueBias, bias.Data[0], 3);
    }
}
