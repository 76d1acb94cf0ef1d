using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class LocallyConnectedLayerTests
{
    internal sealed record LocalCase(int[] Shape, int NumOutput, int[] Kernel, int[] Pad, int[] Stride, bool HwFields = false, bool Bias = true)
    {
        public ConvolutionParameter ConvParam()
        {
            var p = new ConvolutionParameter
            {
                NumOutput = (uint)NumOutput, BiasTerm = Bias,
                WeightFiller = new FillerParameter { Type = "gaussian", Std = 1 },
                BiasFiller = new FillerParameter { Type = "gaussian", Std = 1 },
            };
            if (HwFields)
            {
                (p.KernelH, p.KernelW, p.PadH, p.PadW, p.StrideH, p.StrideW) =
                    ((uint)Kernel[0], (uint)Kernel[1], (uint)Pad[0], (uint)Pad[1], (uint)Stride[0], (uint)Stride[1]);
            }
            else
            {
                p.KernelSize.Add((uint)Kernel[0]);
                p.Pad.Add((uint)Pad[0]);
                p.Stride.Add((uint)Stride[0]);
            }
            return p;
        }

        public LayerParameter Param(string type = "Local") => new() { Name = "local", Type = type, ConvolutionParam = ConvParam() };

        public int OutH => (Shape[2] + 2 * Pad[0] - Kernel[0]) / Stride[0] + 1;
        public int OutW => (Shape[3] + 2 * Pad[1] - Kernel[1]) / Stride[1] + 1;
    }

    internal static readonly Dictionary<string, LocalCase> Cases = new()
    {
        ["k3"] = new([2, 3, 5, 4], 4, [3, 3], [0, 0], [1, 1]),
        ["k3 s2 pad1"] = new([2, 3, 6, 5], 2, [3, 3], [1, 1], [2, 2]),
        ["rect hw fields"] = new([2, 2, 6, 5], 3, [3, 2], [1, 0], [2, 1], HwFields: true),
        ["1x1"] = new([2, 3, 4, 3], 2, [1, 1], [0, 0], [1, 1]),
        ["no bias"] = new([2, 3, 5, 4], 2, [2, 2], [0, 0], [1, 1], Bias: false),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    // Direct loop over PR #4251's layout: W (M, 1, C·kh·kw, H_out·W_out), b (1, 1, M, H_out·W_out).
    private static float[] Reference(Blob x, LocalCase c, float[] w, float[]? b)
    {
        int num = x.ShapeAt(0), channels = x.ShapeAt(1), height = x.ShapeAt(2), width = x.ShapeAt(3);
        int kh = c.Kernel[0], kw = c.Kernel[1], outH = c.OutH, outW = c.OutW;
        int k = channels * kh * kw, l = outH * outW;
        var y = new float[num * c.NumOutput * l];
        for (int n = 0; n < num; n++)
        {
            for (int o = 0; o < c.NumOutput; o++)
            {
                for (int oh = 0; oh < outH; oh++)
                {
                    for (int ow = 0; ow < outW; ow++)
                    {
                        int loc = oh * outW + ow;
                        double sum = b == null ? 0 : b[o * l + loc];
                        for (int ch = 0; ch < channels; ch++)
                        {
                            for (int i = 0; i < kh; i++)
                            {
                                for (int j = 0; j < kw; j++)
                                {
                                    int yy = oh * c.Stride[0] - c.Pad[0] + i, xx = ow * c.Stride[1] - c.Pad[1] + j;
                                    if (yy < 0 || yy >= height || xx < 0 || xx >= width)
                                    {
                                        continue;
                                    }
                                    int kIndex = (ch * kh + i) * kw + j;
                                    sum += w[(o * k + kIndex) * l + loc] * x.Data[x.Offset(n, ch, yy, xx)];
                                }
                            }
                        }
                        y[(n * c.NumOutput + o) * l + loc] = (float)sum;
                    }
                }
            }
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_MatchesReference(string name)
    {
        var c = Cases[name];
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        var layer = new LocallyConnectedLayer(c.Param());
        layer.SetUp(bottom, top);
        int k = c.Shape[1] * c.Kernel[0] * c.Kernel[1], l = c.OutH * c.OutW;
        Assert.Equal([c.NumOutput, 1, k, l], layer.Blobs[0].Shape);
        if (c.Bias)
        {
            Assert.Equal([1, 1, c.NumOutput, l], layer.Blobs[1].Shape);
        }
        layer.Forward(bottom, top);
        Assert.Equal([c.Shape[0], c.NumOutput, c.OutH, c.OutW], top[0].Shape);
        var expected = Reference(bottom[0], c, layer.Blobs[0].Data.ToArray(), c.Bias ? layer.Blobs[1].Data.ToArray() : null);
        TestBlobs.AssertClose(expected, top[0].Data);
        Assert.True(top[0].AsumData() > 1f);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_WithEqualFiltersAtEveryLocation_EqualsConvolution(string name)
    {
        var c = Cases[name];
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
        var convTop = new[] { new Blob() };
        var localTop = new[] { new Blob() };
        Rng.Seed(1701);
        var conv = new ConvolutionLayer(c.Param("Convolution"));
        conv.SetUp(bottom, convTop);
        conv.Forward(bottom, convTop);
        var local = new LocallyConnectedLayer(c.Param());
        local.SetUp(bottom, localTop);

        // Convolution's W (M, C, kh, kw) is (M, K) row-major; copy it to every location l: W_local[o, 0, k, l] = W_conv[o, k].
        int k = c.Shape[1] * c.Kernel[0] * c.Kernel[1], l = c.OutH * c.OutW;
        var wc = conv.Blobs[0].Data;
        var wl = local.Blobs[0].Data;
        for (int o = 0; o < c.NumOutput; o++)
        {
            for (int j = 0; j < k; j++)
            {
                wl.Slice((o * k + j) * l, l).Fill(wc[o * k + j]);
            }
            if (c.Bias)
            {
                local.Blobs[1].Data.Slice(o * l, l).Fill(conv.Blobs[1].Data[o]);
            }
        }
        local.Forward(bottom, localTop);
        Assert.Equal(convTop[0].Shape, localTop[0].Shape);
        TestBlobs.AssertClose(convTop[0].Data, localTop[0].Data);
    }

    public static TheoryData<string> GradientCaseNames => new("k3", "k3 s2 pad1", "rect hw fields", "no bias");

    [Theory]
    [MemberData(nameof(GradientCaseNames))]
    public void Backward_MatchesNumericGradient(string name)
    {
        var c = Cases[name];
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        var layer = new LocallyConnectedLayer(c.Param());
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, bottom, top);
    }

    [Fact]
    public void Backward_AccumulatesParameterGradients()
    {
        var c = Cases["k3 s2 pad1"];
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        var layer = new LocallyConnectedLayer(c.Param());
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        TestBlobs.Gaussian(5, 1f, top[0].Shape.ToArray()).Data.CopyTo(top[0].Diff);
        layer.Backward(top, [false], bottom);
        var once = layer.Blobs[0].Diff.ToArray();
        var biasOnce = layer.Blobs[1].Diff.ToArray();
        Assert.True(layer.Blobs[0].AsumDiff() > 0.1f);
        layer.Backward(top, [false], bottom);
        TestBlobs.AssertClose(once.Select(v => 2 * v).ToArray(), layer.Blobs[0].Diff);
        TestBlobs.AssertClose(biasOnce.Select(v => 2 * v).ToArray(), layer.Blobs[1].Diff);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ParameterCount_IsConvolutionsTimesOutputLocations(bool bias)
    {
        // 3 channels 8x7, 4 outputs, 3x3 kernel, stride 1, pad 1: H_out·W_out = 8·7 = 56 locations.
        var c = new LocalCase([1, 3, 8, 7], 4, [3, 3], [1, 1], [1, 1], Bias: bias);
        var bottom = new[] { new Blob(c.Shape) };
        var local = new LocallyConnectedLayer(c.Param());
        local.SetUp(bottom, [new Blob()]);
        var conv = new ConvolutionLayer(c.Param("Convolution"));
        conv.SetUp(bottom, [new Blob()]);
        int convCount = 4 * 3 * 3 * 3 + (bias ? 4 : 0);
        int localCount = 4 * 3 * 3 * 3 * 56 + (bias ? 4 * 56 : 0);
        Assert.Equal(convCount, conv.Blobs.Sum(b => b.Count));
        Assert.Equal(localCount, local.Blobs.Sum(b => b.Count));
        Assert.Equal(bias ? 6272 : 6048, localCount);
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "dilation", "dilation must be 1, got (2, 2)" },
        { "group", "group must be 1, got 3" },
        { "3-D", "only 2-D is supported: bottom must be (N, C, H, W), got 2 3 5 4 4" },
        { "axis", "only axis 1 (channels) is supported, got axis 2" },
        { "num_output", "num_output must be > 0" },
        { "kernel", "kernel 7 larger than padded input 5" },
        { "loaded weights", "weight shape (4, 1, 27, 12) does not match the expected (4, 1, 27, 6) for input 3x5x4" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public void BadParameters_Throw(string which, string message)
    {
        var c = Cases["k3"];
        var param = c.Param();
        param.Name = "lc1";
        var p = param.ConvolutionParam;
        int[] shape = c.Shape;
        switch (which)
        {
            case "dilation": p.Dilation.Add(2); break;
            case "group": p.Group = 3; break;
            case "3-D": shape = [2, 3, 5, 4, 4]; break;
            case "axis": p.Axis = 2; break;
            case "num_output": p.NumOutput = 0; break;
            case "kernel": p.KernelSize[0] = 7; break;
            case "loaded weights": param.Blobs.Add(new Blob(4, 1, 27, 12).ToProto()); param.Blobs.Add(new Blob(1, 1, 4, 6).ToProto()); break;
        }
        var layer = new LocallyConnectedLayer(param);
        var ex = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(shape)], [new Blob()]));
        Assert.Contains("lc1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reshape_ToAnotherSpatialSize_NamesBothSizes()
    {
        var c = Cases["k3"];
        var layer = new LocallyConnectedLayer(c.Param());
        var top = new[] { new Blob() };
        layer.SetUp([new Blob(c.Shape)], top);
        // A different batch size is fine; a different H or W is not.
        layer.Forward([new Blob(5, 3, 5, 4)], top);
        Assert.Equal([5, 4, 3, 2], top[0].Shape);
        var ex = Assert.Throws<CremaException>(() => layer.Forward([new Blob(2, 3, 6, 4)], top));
        Assert.Contains("'local'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("input 3x6x4", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3x5x4 the weights were created for", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegisteredUnderBothNames()
    {
        Assert.Equal(typeof(LocallyConnectedLayer), LayerRegistry.TypeOf("LocallyConnected"));
        Assert.Equal(typeof(LocallyConnectedLayer), LayerRegistry.TypeOf("Local"));
    }

    private const string LocalNet = """
        name: "local_net"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 6 dim: 5 } } }
        layer {
          name: "local1" type: "Local" bottom: "data" top: "local1"
          param { lr_mult: 1 } param { lr_mult: 2 }
          convolution_param {
            num_output: 4 kernel_size: 3 stride: 1 pad: 1
            weight_filler { type: "gaussian" std: 0.1 } bias_filler { type: "constant" value: 0.2 }
          }
        }
        layer { name: "relu1" type: "ReLU" bottom: "local1" top: "local1" }
        """;

    [Fact]
    public void Net_WithLocalLayer_BuildsSavesAndLoadsCaffemodel()
    {
        Rng.Seed(1701);
        using var net = NetBuilder.Build(LocalNet);
        var layer = Assert.IsType<LocallyConnectedLayer>(net.Layer("local1"));
        Assert.Equal([4, 1, 27, 30], layer.Blobs[0].Shape);
        Assert.Equal([1, 1, 4, 30], layer.Blobs[1].Shape);
        TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5).Data.CopyTo(net.Blob("data").Data);
        net.Forward();
        var output = net.Blob("local1").Data.ToArray();

        string path = Path.Combine(Path.GetTempPath(), $"crema-local-{Guid.NewGuid():N}.caffemodel");
        try
        {
            net.Save(path);
            var saved = Crema.Nets.WeightFiles.Read(path).Layer.Single(l => l.Name == "local1");
            Assert.Equal("Local", saved.Type);
            Assert.Equal([4L, 1, 27, 30], saved.Blobs[0].Shape.Dim);
            Assert.Equal([1L, 1, 4, 30], saved.Blobs[1].Shape.Dim);

            Rng.Seed(42);
            using var other = NetBuilder.Build(LocalNet);
            net.Blob("data").Data.CopyTo(other.Blob("data").Data);
            other.Forward();
            Assert.NotEqual(output, other.Blob("local1").Data.ToArray());
            other.CopyTrainedLayersFrom(path);
            other.Forward();
            Assert.Equal(output, other.Blob("local1").Data.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
