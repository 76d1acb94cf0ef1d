using Crema.Layers;
using Crema.Proto;
using Crema.Solvers;
using Xunit.Abstractions;

namespace Crema.Tests.CustomLayers;

/// <summary>A fixed regression batch: x ~ N(0, 1) of shape (N, C), y = γ·x + β per channel with known γ, β.</summary>
public sealed class KnownAffineDataLayer(LayerParameter param) : Layer(param)
{
    public const int Batch = 32;
    public static readonly float[] TrueScale = [2f, -1f, 0.5f];
    public static readonly float[] TrueBias = [0.5f, 0f, -1f];

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        top[0].Reshape(Batch, TrueScale.Length);
        top[1].Reshape(Batch, TrueScale.Length);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        TestBlobs.Gaussian(1701, 1f, Batch, TrueScale.Length).Data.CopyTo(top[0].Data);
        for (int i = 0; i < top[0].Count; i++)
        {
            int c = i % TrueScale.Length;
            top[1].Data[i] = TrueScale[c] * top[0].Data[i] + TrueBias[c];
        }
    }
}

/// <summary>Custom layers inside a Net trained by a Solver: the learnable channel_affine.cs fitted with the euclidean_loss.cs loss.</summary>
public class CustomLayerTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Sgd_RecoversKnownWeights_ThroughCustomLayers()
    {
        LayerRegistry.Register<KnownAffineDataLayer>("TestKnownAffineData");
        var net = new NetParameter { Name = "custom_affine_regression" };
        net.Layer.Add(new LayerParameter { Name = "data", Type = "TestKnownAffineData", Top = { "x", "y" } });
        var affine = CustomLayerFiles.Python("affine", "channel_affine.cs", "ChannelAffineLayer", "scale=0, bias=0");
        affine.Bottom.Add("x");
        affine.Top.Add("pred");
        net.Layer.Add(affine);
        var loss = CustomLayerFiles.Python("loss", "euclidean_loss.cs", "EuclideanLossLayer");
        loss.Bottom.Add("pred");
        loss.Bottom.Add("y");
        loss.Top.Add("loss");
        loss.LossWeight.Add(1f);
        net.Layer.Add(loss);

        var solverParam = new SolverParameter
        {
            NetParam = net, Type = "SGD", BaseLr = 0.1f, Momentum = 0.9f, LrPolicy = "fixed", MaxIter = 150, Display = 0,
        };
        using var solver = SolverFactory.Create(solverParam, CustomLayerFiles.ExamplesDir);
        var losses = new List<float>();
        solver.IterationCompleted += (_, l) => losses.Add(l);
        solver.Step(150);

        var learned = solver.Net.Params["affine"];
        output.WriteLine($"loss at iteration 0: {losses[0]:G6}, at 149: {losses[^1]:G6}");
        output.WriteLine($"scale: {string.Join(", ", learned[0].Data.ToArray().Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}");
        output.WriteLine($"bias: {string.Join(", ", learned[1].Data.ToArray().Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}");
        TestBlobs.AssertClose(KnownAffineDataLayer.TrueScale, learned[0].Data, 1e-3f);
        TestBlobs.AssertClose(KnownAffineDataLayer.TrueBias, learned[1].Data, 1e-3f);
        Assert.True(losses[^1] < 1e-6f * losses[0], $"loss fell only from {losses[0]} to {losses[^1]}");
    }
}
