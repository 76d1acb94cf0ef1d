using System.Globalization;
using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Tests.Proto;

public class PrototxtParserTests
{
    private static PrototxtException ParseError(string text) =>
        Assert.Throws<PrototxtException>(() => PrototxtParser.Parse<NetParameter>(text, "net.prototxt"));

    private static void AssertError(PrototxtException e, int line, int column, params string[] fragments)
    {
        Assert.Equal("net.prototxt", e.FileName);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.StartsWith($"net.prototxt:{line}:{column}: ", e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LayerWithNestedMessagesAndComments()
    {
        const string text = """
            # a comment
            name: "LeNet"  # trailing comment
            layer {
              name: 'conv1' type: "Convolution"
              bottom: "data" top: "conv1"
              param { lr_mult: 1 }
              param: { lr_mult: 2 decay_mult: 0 }
              convolution_param <
                num_output: 20 kernel_size: 5 stride: 1;
                weight_filler { type: "xavier" }
              >
            }
            """;
        var net = PrototxtParser.Parse<NetParameter>(text);
        Assert.Equal("LeNet", net.Name);
        var layer = Assert.Single(net.Layer);
        Assert.Equal("conv1", layer.Name);
        Assert.Equal(2, layer.Param.Count);
        Assert.Equal(2f, layer.Param[1].LrMult);
        Assert.Equal(0f, layer.Param[1].DecayMult);
        Assert.False(layer.Param[0].HasDecayMult);
        Assert.Equal(20u, layer.ConvolutionParam.NumOutput);
        Assert.Equal([5u], layer.ConvolutionParam.KernelSize);
        Assert.Equal("xavier", layer.ConvolutionParam.WeightFiller.Type);
    }

    [Fact]
    public void Parse_RepeatedFieldsBothSpellings()
    {
        var shape = PrototxtParser.Parse<BlobShape>("dim: 1 dim: 3\ndim: [224, 224] dim: []");
        Assert.Equal([1L, 3, 224, 224], shape.Dim);
        var net = PrototxtParser.Parse<NetParameter>("layer: [{ name: 'a' }, { name: 'b' }]");
        Assert.Equal(["a", "b"], net.Layer.Select(l => l.Name));
    }

    [Fact]
    public void Parse_NonRepeatedFieldTwice_IsAnError_AsInCaffe()
    {
        // protobuf's C++ text parser (Caffe's) refuses these; "last wins" silently ran Sigmoid for `type: "ReLU" type: "Sigmoid"`.
        var e = Assert.Throws<PrototxtException>(() => PrototxtParser.Parse<LayerParameter>("name: 'a'\ntype: 'ReLU' type: 'Sigmoid'", "x.prototxt"));
        Assert.StartsWith("x.prototxt:2:14:", e.Message, StringComparison.Ordinal);
        Assert.Contains("'type'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<PrototxtException>(() => PrototxtParser.Parse<LayerParameter>(
            "convolution_param { num_output: 3 } convolution_param { kernel_size: 2 }", "x.prototxt"));
        Assert.StartsWith("x.prototxt:1:37:", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<PrototxtException>(() => PrototxtParser.Parse<LayerParameter>("convolution_param { num_output: 3 num_output: 4 }", "x.prototxt"));
        Assert.StartsWith("x.prototxt:1:35:", e.Message, StringComparison.Ordinal);
        // Repeated fields and the same field in two different messages stay legal.
        var layer = PrototxtParser.Parse<LayerParameter>("bottom: 'a' bottom: 'b' param { lr_mult: 1 } param { lr_mult: 2 }");
        Assert.Equal(["a", "b"], layer.Bottom);
        Assert.Equal(2, layer.Param.Count);
    }

    [Fact]
    public void Parse_Enums_ByNameAndNumber()
    {
        var p = PrototxtParser.Parse<PoolingParameter>("pool: AVE");
        Assert.Equal(PoolingParameter.Types.PoolMethod.Ave, p.Pool);
        p = PrototxtParser.Parse<PoolingParameter>("pool: 2");
        Assert.Equal(PoolingParameter.Types.PoolMethod.Stochastic, p.Pool);
        var s = PrototxtParser.Parse<SolverParameter>("solver_mode: CPU");
        Assert.Equal(SolverParameter.Types.SolverMode.Cpu, s.SolverMode);
    }

    [Theory]
    [InlineData("\"a\\nb\"", "a\nb")]
    [InlineData("'tab\\there'", "tab\there")]
    [InlineData("\"q\\\"q\"", "q\"q")]
    [InlineData("'s\\'s'", "s's")]
    [InlineData("\"back\\\\slash\"", "back\\slash")]
    [InlineData("\"\\101\\102C\"", "ABC")]
    [InlineData("\"\\x41\\x4a\"", "AJ")]
    [InlineData("\"\\0\"", "\0")]
    [InlineData("\"con\" 'cat' \"enated\"", "concatenated")]
    [InlineData("\"caf\\303\\251\"", "café")]
    [InlineData("\"café\"", "café")]
    public void Parse_StringEscapes(string literal, string expected)
    {
        var net = PrototxtParser.Parse<NetParameter>("name: " + literal);
        Assert.Equal(expected, net.Name);
    }

    [Theory]
    [InlineData("1e-4", 1e-4f)]
    [InlineData("1E-4", 1e-4f)]
    [InlineData(".5", 0.5f)]
    [InlineData("5.", 5f)]
    [InlineData("1.0f", 1f)]
    [InlineData("2.5F", 2.5f)]
    [InlineData("3", 3f)]
    [InlineData("-0.25", -0.25f)]
    [InlineData("0x10", 16f)]
    [InlineData("1e+2", 100f)]
    [InlineData("inf", float.PositiveInfinity)]
    [InlineData("-inf", float.NegativeInfinity)]
    [InlineData("infinity", float.PositiveInfinity)]
    [InlineData("-Infinity", float.NegativeInfinity)]
    [InlineData("nan", float.NaN)]
    public void Parse_FloatSpellings(string literal, float expected)
    {
        var s = PrototxtParser.Parse<SolverParameter>("base_lr: " + literal);
        Assert.Equal(expected, s.BaseLr);
    }

    [Theory]
    [InlineData("42", 42)]
    [InlineData("-7", -7)]
    [InlineData("0x1F", 31)]
    [InlineData("0X1f", 31)]
    [InlineData("017", 15)]
    [InlineData("0", 0)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("-2147483648", int.MinValue)]
    public void Parse_IntegerSpellings(string literal, int expected)
    {
        var s = PrototxtParser.Parse<SolverParameter>("max_iter: " + literal);
        Assert.Equal(expected, s.MaxIter);
    }

    [Fact]
    public void Parse_Int64AndUInt32Limits()
    {
        Assert.Equal(long.MinValue, PrototxtParser.Parse<SolverParameter>("random_seed: -9223372036854775808").RandomSeed);
        Assert.Equal(uint.MaxValue, PrototxtParser.Parse<ConvolutionParameter>("num_output: 4294967295").NumOutput);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("t", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("False", false)]
    [InlineData("f", false)]
    [InlineData("0", false)]
    public void Parse_BoolSpellings(string literal, bool expected)
    {
        var net = PrototxtParser.Parse<NetParameter>("force_backward: " + literal);
        Assert.True(net.HasForceBackward);
        Assert.Equal(expected, net.ForceBackward);
    }

    [Fact]
    public void Parse_SeparatorsAreOptional()
    {
        var s = PrototxtParser.Parse<SolverParameter>("base_lr: 0.1; max_iter: 3, display: 1");
        Assert.Equal((0.1f, 3, 1), (s.BaseLr, s.MaxIter, s.Display));
    }

    [Fact]
    public void Parse_UsesInvariantCulture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // InvariantGlobalization forbids "de-DE" itself, so build a culture with its number format.
            var german = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            german.NumberFormat.NumberDecimalSeparator = ",";
            german.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = german;
            var s = PrototxtParser.Parse<SolverParameter>("base_lr: 0.01");
            Assert.Equal(0.01f, s.BaseLr);
            Assert.Contains("base_lr: 0.01", PrototxtPrinter.Print(s), StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void Error_UnknownFieldSuggestsClosest()
    {
        var e = ParseError("layer {\n  convolution_param {\n    num_outptu: 3\n  }\n}");
        AssertError(e, 3, 5, "'num_outptu'", "caffe.ConvolutionParameter", "did you mean 'num_output'?");
    }

    [Fact]
    public void Error_UnknownFieldWithoutCloseMatch()
    {
        var e = ParseError("name: 'x'\nwhatever_this_is: 1");
        AssertError(e, 2, 1, "'whatever_this_is'", "caffe.NetParameter");
        Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_BadEnumNameListsValidNames()
    {
        var e = ParseError("layer { pooling_param { pool: MAXIMUM } }");
        AssertError(e, 1, 31, "'MAXIMUM'", "MAX, AVE, STOCHASTIC", "field 'pool' in message caffe.PoolingParameter");
    }

    [Fact]
    public void Error_BadEnumNumber()
    {
        var e = ParseError("layer { pooling_param { pool: 7 } }");
        AssertError(e, 1, 31, "7", "field 'pool' in message caffe.PoolingParameter");
    }

    [Fact]
    public void Error_NegativeForUnsigned()
    {
        var e = ParseError("layer {\n convolution_param { num_output: -1 } }");
        AssertError(e, 2, 34, "out of range", "field 'num_output' in message caffe.ConvolutionParameter");
    }

    [Fact]
    public void Error_Int32Overflow()
    {
        var e = Assert.Throws<PrototxtException>(() => PrototxtParser.Parse<SolverParameter>("max_iter: 2147483648", "net.prototxt"));
        AssertError(e, 1, 11, "out of range", "field 'max_iter' in message caffe.SolverParameter");
    }

    [Fact]
    public void Error_StringWhereNumberExpected()
    {
        var e = ParseError("layer { convolution_param { num_output: \"20\" } }");
        AssertError(e, 1, 41, "Expected an integer", "field 'num_output' in message caffe.ConvolutionParameter");
    }

    [Fact]
    public void Error_FloatForIntegerField()
    {
        var e = ParseError("layer { convolution_param { num_output: 2.5 } }");
        AssertError(e, 1, 41, "Expected an integer", "field 'num_output'");
    }

    [Fact]
    public void Error_NumberWhereStringExpected()
    {
        var e = ParseError("layer {\n  name: 12\n}");
        AssertError(e, 2, 9, "Expected a quoted string", "field 'name' in message caffe.LayerParameter");
    }

    [Fact]
    public void Error_IdentifierForFloat()
    {
        var e = Assert.Throws<PrototxtException>(() => PrototxtParser.Parse<SolverParameter>("base_lr: fast", "net.prototxt"));
        AssertError(e, 1, 10, "Expected a number", "field 'base_lr' in message caffe.SolverParameter");
    }

    [Fact]
    public void Error_BadBool()
    {
        var e = ParseError("force_backward: yes");
        AssertError(e, 1, 17, "Expected a bool", "field 'force_backward'");
    }

    [Fact]
    public void Error_UnterminatedString()
    {
        var e = ParseError("name: 'x'\nlayer { name: \"conv1\n }");
        AssertError(e, 2, 15, "Unterminated string");
    }

    [Fact]
    public void Error_UnterminatedBlock()
    {
        var e = ParseError("layer {\n  name: 'a'\n  convolution_param {\n    num_output: 1\n  }\n");
        AssertError(e, 1, 7, "Unterminated block", "'layer'");
    }

    [Fact]
    public void Error_MismatchedCloser()
    {
        var e = ParseError("layer <\n  name: 'a'\n}");
        AssertError(e, 3, 1, "Expected '>'", "'layer'");
    }

    [Fact]
    public void Error_MissingColon()
    {
        var e = ParseError("layer {\n  name 'a'\n}");
        AssertError(e, 2, 8, "Expected ':'", "field 'name' in message caffe.LayerParameter");
    }

    [Fact]
    public void Error_ScalarFieldWithBlock()
    {
        var e = ParseError("layer {\n  name { }\n}");
        AssertError(e, 2, 8, "Expected ':'", "field 'name'");
    }

    [Fact]
    public void Error_StrayClosingBrace()
    {
        var e = ParseError("name: 'a'\n}");
        AssertError(e, 2, 1, "Expected a field name", "'}'");
    }

    [Fact]
    public void Error_ListForNonRepeatedField()
    {
        var e = ParseError("name: ['a', 'b']");
        AssertError(e, 1, 7, "only allowed for repeated fields", "field 'name'");
    }

    [Fact]
    public void Error_BadListSeparator()
    {
        var e = ParseError("input_dim: [1 2]");
        AssertError(e, 1, 15, "Expected ',' or ']'", "field 'input_dim'");
    }

    [Fact]
    public void Error_BadEscape()
    {
        var e = ParseError("name: 'a\\qb'");
        AssertError(e, 1, 9, "Invalid escape");
    }

    [Fact]
    public void Error_MalformedNumber()
    {
        var e = ParseError("input_dim: 12abc");
        AssertError(e, 1, 12, "Malformed number '12abc'");
    }

    [Fact]
    public void Error_BadOctal()
    {
        var e = ParseError("input_dim: 089");
        AssertError(e, 1, 12, "Malformed integer", "field 'input_dim'");
    }

    [Fact]
    public void Error_MessageFieldWithoutBrace()
    {
        var e = ParseError("layer: 3");
        AssertError(e, 1, 8, "Expected '{'", "field 'layer' in message caffe.NetParameter");
    }
}
