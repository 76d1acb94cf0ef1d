using System.Globalization;
using System.Text.RegularExpressions;
using Crema.Cli.Commands;
using Crema.Nets;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Cli;

/// <summary>`crema time`: -forward_only, -weights, noise input and the median lines.</summary>
[Collection(CliCollection.Name)]
public class TimeCommandTests
{
    private const string Deploy = """
        name: "t"
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 dim: 6 dim: 6 } shape { dim: 2 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "gaussian" std: 0.1 } } }
        layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.1 } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    private static double Value(CliResult r, string pattern)
    {
        var m = Regex.Match(string.Join("\n", r.Log), pattern);
        Assert.True(m.Success, $"no line matching {pattern} in:\n{string.Join("\n", r.Log)}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void ForwardOnly_TimesNoBackwardAndPrintsMedians()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("net.prototxt"), Deploy);
        var r = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "3", "-forward_only");
        Assert.Equal(0, r.ExitCode);
        var timing = r.Log.SkipWhile(l => !l.Contains("Benchmark begins", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(timing);
        Assert.DoesNotContain(r.Log, l => l.Contains("Performing Backward", StringComparison.Ordinal));
        Assert.DoesNotContain(timing, l => l.Contains("backward", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(r.Log, l => l.Contains("Iteration: 3 forward time:", StringComparison.Ordinal));
        Assert.True(Value(r, @"Median Forward pass: ([\d.eE+-]+) ms") > 0);
        Assert.True(Value(r, @"Average Forward pass: ([\d.eE+-]+) ms") > 0);
        Assert.True(Value(r, @"conv\tforward: [\d.eE+-]+ ms \(median ([\d.eE+-]+) ms\)") > 0);
    }

    [Fact]
    public void ForwardOnlyAtTest_OptimizesForInference_UnlessNoOptimize()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("net.prototxt"), Deploy.Replace(
            "layer { name: \"pool\"", "layer { name: \"relu\" type: \"ReLU\" bottom: \"conv\" top: \"conv\" }\nlayer { name: \"pool\"", StringComparison.Ordinal));
        var optimised = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "2", "-phase", "TEST", "-forward_only");
        Assert.Equal(0, optimised.ExitCode);
        Assert.Contains(optimised.Log, l => l.Contains("Optimized net \"t\" for inference: 1 ReLU into Convolution", StringComparison.Ordinal));
        // The fused ReLU is skipped: its Forward returns at once.
        Assert.True(Value(optimised, @"relu\tforward: ([\d.eE+-]+) ms") < 0.01);
        var plain = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "2", "-phase", "TEST", "-forward_only", "-no_optimize");
        Assert.Equal(0, plain.ExitCode);
        Assert.DoesNotContain(plain.Log, l => l.Contains("Optimized net", StringComparison.Ordinal));
        // TRAIN timing (forward and backward) never optimizes.
        var train = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "1");
        Assert.Equal(0, train.ExitCode);
        Assert.DoesNotContain(train.Log, l => l.Contains("Optimized net", StringComparison.Ordinal));
    }

    [Fact]
    public void Default_StillTimesBackward_WithMediansBesideMeans()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("net.prototxt"), Deploy);
        var r = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-iterations", "2");
        Assert.Equal(0, r.ExitCode);
        Assert.True(Value(r, @"ip\tbackward: [\d.eE+-]+ ms \(median ([\d.eE+-]+) ms\)") > 0);
        Assert.True(Value(r, @"Median Forward-Backward: ([\d.eE+-]+) ms") > 0);
        Assert.True(Value(r, @"Average Backward pass: ([\d.eE+-]+) ms") > 0);
    }

    [Fact]
    public void Weights_AreLoaded_AndAMismatchFailsNamingTheLayer()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("net.prototxt"), Deploy);
        // Weights of a net whose ip has 5 outputs: loading them must fail, which only happens if -weights is read.
        var other = ProtoFiles.ReadNetText(dir.Combine("net.prototxt"));
        other.Layer[3].InnerProductParam.NumOutput = 5;
        using (var net = new Net(other, Phase.Test))
        {
            net.Save(dir.Combine("bad.caffemodel"));
        }
        using (var net = new Net(ProtoFiles.ReadNetText(dir.Combine("net.prototxt")), Phase.Test))
        {
            net.Save(dir.Combine("good.caffemodel"));
        }
        var good = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-weights", dir.Combine("good.caffemodel"), "-iterations", "1", "-phase", "TEST", "-forward_only");
        Assert.Equal(0, good.ExitCode);
        var bad = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-weights", dir.Combine("bad.caffemodel"), "-iterations", "1");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("ip", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInputMode_IsOneClearError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("net.prototxt"), Deploy);
        var r = CliRunner.Run("time", "-model", dir.Combine("net.prototxt"), "-input", "photos");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("-input must be noise or zeros (got 'photos')", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Noise_FillsImagesWithUnitGaussian_AndLeavesLabelsAtZero()
    {
        var param = new NetParameter();
        param.Layer.Add(new LayerParameter { Name = "data", Type = "Input", Top = { "data", "label" } });
        param.Layer[0].InputParam = new InputParameter { Shape = { new BlobShape { Dim = { 8, 3, 32, 32 } }, new BlobShape { Dim = { 8 } } } };
        using var net = new Net(param, Phase.Test);
        TimeCommand.FillInputsWithNoise(net);
        var data = net.Blob("data").Data.ToArray();
        double mean = data.Average();
        double std = Math.Sqrt(data.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(std, 0.95, 1.05);
        Assert.True(data.Distinct().Count() > data.Length * 0.99);
        Assert.All(net.Blob("label").Data.ToArray(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(new long[] { 5 }, 5.0)]
    [InlineData(new long[] { 3, 1, 2 }, 2.0)]
    [InlineData(new long[] { 4, 1, 3, 2 }, 2.5)]
    [InlineData(new long[] { 9, 9, 1, 100, 9 }, 9.0)]
    public void Median_OfOddAndEvenCounts(long[] values, double expected)
    {
        var copy = (long[])values.Clone();
        Assert.Equal(expected, TimeCommand.Median(values));
        Assert.Equal(copy, values);
    }
}
