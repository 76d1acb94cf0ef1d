using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Pycaffe;

/// <summary>Net.Forward(inputs), ForwardAll, ForwardBackwardAll, Backward(start, end), Reshape, Inputs/Outputs against direct per-batch runs.</summary>
public sealed class NetPycaffeTests
{
    // Input (3, 2, 2) → InnerProduct 4 (random weights) → Softmax; force_backward so input diffs are computed.
    private const string Model = """
        name: "tiny"
        force_backward: true
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 3 dim: 2 dim: 2 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
                inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 1 } bias_filler { type: "gaussian" std: 1 } } }
        layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
        """;

    private static Net Build()
    {
        Log.Quiet = true;
        return NetBuilder.Build(Model, Phase.Test);
    }

    private static float[] Items(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * 4).Select(_ => (float)(rng.NextDouble() * 4) - 2).ToArray();
    }

    // The reference: item i alone in slot 0 of an otherwise zero batch, through the plain Forward().
    private static float[] ProbOfItem(Net net, float[] items, int i)
    {
        var data = net.Blob("data").Data;
        data.Clear();
        items.AsSpan(i * 4, 4).CopyTo(data);
        net.Forward();
        return net.Blob("prob").Data[..4].ToArray();
    }

    [Fact]
    public void InputsAndOutputs_AreTheBlobNames()
    {
        using var net = Build();
        Assert.Equal(["data"], net.Inputs);
        Assert.Equal(["prob"], net.Outputs);
    }

    [Fact]
    public void Forward_WithInputs_ReturnsCopiesOfOutputsAndRequestedBlobs()
    {
        using var net = Build();
        float[] x = Items(3, 1);
        var outs = net.Forward(new Dictionary<string, float[]> { ["data"] = x }, ["ip"]);
        Assert.Equal(["ip", "prob"], outs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(net.Blob("prob").Data.ToArray(), outs["prob"]);
        Assert.Equal(x, net.Blob("data").Data.ToArray());
        // A copy: the next forward does not change it.
        float[] before = outs["prob"].ToArray();
        net.Forward(new Dictionary<string, float[]> { ["data"] = Items(3, 2) });
        Assert.Equal(before, outs["prob"]);
        Assert.NotEqual(before, net.Blob("prob").Data.ToArray());
    }

    [Fact]
    public void Forward_WithBlobOfAnotherBatch_ReshapesTheNet()
    {
        using var net = Build();
        var blob = new Blob(5, 2, 2);
        Items(5, 3).CopyTo(blob.Data);
        var outs = net.Forward(new Dictionary<string, Blob> { ["data"] = blob });
        Assert.Equal(20, outs["prob"].Length);
        Assert.Equal([5, 4], net.Blob("prob").Shape);
    }

    [Fact]
    public void Forward_BadInput_ClearErrors()
    {
        using var net = Build();
        var e = Assert.Throws<CremaException>(() => net.Forward(new Dictionary<string, float[]> { ["ip"] = new float[12] }));
        Assert.Contains("'ip' is not an input blob (inputs: data)", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<CremaException>(() => net.Forward(new Dictionary<string, float[]> { ["data"] = new float[8] }));
        Assert.Contains("has 8 values", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(9)]
    public void ForwardAll_AnyItemCount_MatchesItemByItemForwards(int n)
    {
        using var net = Build();
        float[] x = Items(n, n);
        var all = net.ForwardAll(new Dictionary<string, float[]> { ["data"] = x }, ["ip"]);
        Assert.Equal(n * 4, all["prob"].Length);
        Assert.Equal(n * 4, all["ip"].Length);
        for (int i = 0; i < n; i++)
        {
            float[] expected = ProbOfItem(net, x, i);
            Assert.Equal(expected, all["prob"].AsSpan(i * 4, 4).ToArray());
        }
        Assert.Throws<CremaException>(() => net.ForwardAll(new Dictionary<string, float[]> { ["data"] = new float[6] }));
    }

    [Fact]
    public void ForwardBackwardAll_MatchesPerBatchBackward()
    {
        using var net = Build();
        const int n = 5;
        float[] x = Items(n, 11);
        float[] topDiff = Items(n, 12);
        var (outs, diffs) = net.ForwardBackwardAll(
            new Dictionary<string, float[]> { ["data"] = x }, new Dictionary<string, float[]> { ["prob"] = topDiff }, diffs: ["ip"]);
        Assert.Equal(n * 4, outs["prob"].Length);
        Assert.Equal(n * 4, diffs["data"].Length);
        for (int i = 0; i < n; i++)
        {
            // Reference: item i alone in slot 0, its top diff in slot 0, zeros elsewhere.
            ProbOfItem(net, x, i);
            var probDiff = net.Blob("prob").Diff;
            probDiff.Clear();
            topDiff.AsSpan(i * 4, 4).CopyTo(probDiff);
            net.Backward();
            Assert.Equal(net.Blob("data").Diff[..4].ToArray(), diffs["data"].AsSpan(i * 4, 4).ToArray());
            Assert.Equal(net.Blob("ip").Diff[..4].ToArray(), diffs["ip"].AsSpan(i * 4, 4).ToArray());
        }
    }

    [Fact]
    public void Backward_ByLayerName_RunsOnlyThatRange()
    {
        using var net = Build();
        net.Forward(new Dictionary<string, float[]> { ["data"] = Items(3, 5) });
        net.Blob("ip").Diff.Fill(1);
        net.Blob("data").Diff.Fill(-7);
        // Only layer ip runs: data's diff = Wᵀ·1 per item, prob's backward is skipped so ip's diff stays 1.
        net.Backward(start: "ip", end: "ip");
        Assert.All(net.Blob("ip").Diff.ToArray(), v => Assert.Equal(1f, v));
        var w = net.Params["ip"][0].Data.ToArray(); // (4, 4): out × in
        for (int k = 0; k < 4; k++)
        {
            float expected = w[k] + w[4 + k] + w[8 + k] + w[12 + k];
            Assert.Equal(expected, net.Blob("data").Diff[k], 5);
        }
        var returned = net.Backward(new Dictionary<string, float[]> { ["prob"] = Items(3, 6) }, ["ip"]);
        Assert.Equal(["data", "ip"], returned.Keys.Order(StringComparer.Ordinal));
        Assert.Throws<CremaException>(() => net.Backward(start: "nope"));
    }

    [Fact]
    public void Reshape_PropagatesANewInputShape()
    {
        using var net = Build();
        net.Blob("data").Reshape(6, 2, 2);
        net.Reshape();
        Assert.Equal([6, 4], net.Blob("ip").Shape);
        Assert.Equal([6, 4], net.Blob("prob").Shape);
    }
}
