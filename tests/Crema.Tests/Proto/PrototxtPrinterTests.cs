using Crema.Proto;
using Crema.Proto.TextFormat;
using Google.Protobuf;

namespace Crema.Tests.Proto;

public class PrototxtPrinterTests
{
    [Fact]
    public void Print_CaffeStyle()
    {
        var net = new NetParameter
        {
            Name = "tiny",
            ForceBackward = true,
            Layer =
            {
                new LayerParameter
                {
                    Name = "pool", Type = "Pooling", Bottom = { "x" }, Top = { "y" },
                    PoolingParam = new PoolingParameter { Pool = PoolingParameter.Types.PoolMethod.Ave, KernelSize = 3 },
                },
            },
        };
        const string expected = """
            name: "tiny"
            force_backward: true
            layer {
              name: "pool"
              type: "Pooling"
              bottom: "x"
              top: "y"
              pooling_param {
                pool: AVE
                kernel_size: 3
              }
            }

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), PrototxtPrinter.Print(net));
    }

    [Fact]
    public void Print_OnlySetFields_IncludingExplicitDefaults()
    {
        var p = new ConvolutionParameter { BiasTerm = true, Group = 1 };
        Assert.Equal("bias_term: true\ngroup: 1\n", PrototxtPrinter.Print(p));
        Assert.Equal("", PrototxtPrinter.Print(new ConvolutionParameter()));
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(1e-8f)]
    [InlineData(0.00390625f)]
    [InlineData(3.4028235e38f)]
    [InlineData(1.4e-45f)]
    [InlineData(-0f)]
    [InlineData(16777217f)]
    [InlineData(0.999f)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(float.NaN)]
    public void Floats_RoundTripBitExactly(float value)
    {
        var printed = PrototxtPrinter.Print(new SolverParameter { BaseLr = value });
        var back = PrototxtParser.Parse<SolverParameter>(printed).BaseLr;
        Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(back));
    }

    [Fact]
    public void Floats_PrintShortestForm()
    {
        Assert.Equal("base_lr: 0.01\n", PrototxtPrinter.Print(new SolverParameter { BaseLr = 0.01f }));
        Assert.Equal("base_lr: 1e-05\n", PrototxtPrinter.Print(new SolverParameter { BaseLr = 1e-5f }));
        Assert.Equal("base_lr: inf\n", PrototxtPrinter.Print(new SolverParameter { BaseLr = float.PositiveInfinity }));
        Assert.Equal("base_lr: -inf\n", PrototxtPrinter.Print(new SolverParameter { BaseLr = float.NegativeInfinity }));
        Assert.Equal("base_lr: nan\n", PrototxtPrinter.Print(new SolverParameter { BaseLr = float.NaN }));
    }

    [Fact]
    public void Strings_AreEscaped()
    {
        var net = new NetParameter { Name = "a\"b'c\\d\ne\tf\u0001g café" };
        var printed = PrototxtPrinter.Print(net);
        Assert.Equal("name: \"a\\\"b\\'c\\\\d\\ne\\tf\\001g café\"\n", printed);
        Assert.Equal(net, PrototxtParser.Parse<NetParameter>(printed));
    }

    /// <summary>Covers string, bytes, bool, enum (top-level and nested), int32, int64, uint32, float, double,
    /// nested and repeated messages, and repeated scalars of each kind.</summary>
    [Fact]
    public void RoundTrip_EveryFieldType()
    {
        var blob = new BlobProto
        {
            Shape = new BlobShape { Dim = { 2, long.MaxValue, long.MinValue } },
            Data = { 1.5f, -0f, float.Epsilon, float.MaxValue, float.NaN },
            Diff = { 0.1f },
            DoubleData = { Math.PI, double.Epsilon, double.NegativeInfinity, -1e300 },
            DoubleDiff = { 2.5 },
            Num = int.MinValue, Channels = int.MaxValue,
        };
        var solver = new SolverParameter
        {
            Net = "net.prototxt",
            NetParam = new NetParameter
            {
                Name = "n",
                State = new NetState { Phase = Phase.Train, Level = -3, Stage = { "s1", "s2" } },
                Layer =
                {
                    new LayerParameter
                    {
                        Name = "conv", Type = "Convolution", Phase = Phase.Test,
                        LossWeight = { 0.5f, 2f },
                        PropagateDown = { true, false },
                        Blobs = { blob },
                        Param = { new ParamSpec { Name = "w", ShareMode = ParamSpec.Types.DimCheckMode.Permissive, LrMult = 0.1f } },
                        ConvolutionParam = new ConvolutionParameter
                        {
                            NumOutput = uint.MaxValue, KernelSize = { 3, 5 }, Pad = { 0, 1 },
                            Engine = ConvolutionParameter.Types.Engine.Caffe,
                            WeightFiller = new FillerParameter { Type = "msra", VarianceNorm = FillerParameter.Types.VarianceNorm.Average },
                        },
                    },
                },
            },
            TestIter = { 1, -2, int.MaxValue },
            BaseLr = 0.01f,
            RandomSeed = long.MinValue,
            SolverMode = SolverParameter.Types.SolverMode.Cpu,
            SnapshotDiff = false,
            Delta = 1e-8f,
            Weights = { "a.caffemodel", "b\n.caffemodel" },
        };
        var printed = PrototxtPrinter.Print(solver);
        var back = PrototxtParser.Parse<SolverParameter>(printed);
        Assert.Equal(solver, back);
        Assert.True(back.HasSnapshotDiff);
        Assert.Equal(printed, PrototxtPrinter.Print(back));

        var datum = new Datum
        {
            Channels = 3, Label = -1, Encoded = true,
            Data = ByteString.CopyFrom([0, 1, 0x7F, 0x80, 0xFF, (byte)'"', (byte)'\\', (byte)'a', 0xC3, 0xA9]),
            FloatData = { 1, 2 },
        };
        var datumText = PrototxtPrinter.Print(datum);
        Assert.Contains("data: \"\\000\\001\\177\\200\\377\\\"\\\\a\\303\\251\"", datumText, StringComparison.Ordinal);
        Assert.Equal(datum, PrototxtParser.Parse<Datum>(datumText));
    }
}
