using Crema.Tests.Data;
using Xunit.Abstractions;

namespace Crema.Tests.Cli;

/// <summary>
/// Bad nets, solvers and weight files through `crema time/train/test`: each must fail with exit code 1 and exactly one
/// line on stderr that points at the problem (file:line:column, or the layer and the offending value), never a stack trace.
/// </summary>
[Collection(CliCollection.Name)]
public class BadInputTests(ITestOutputHelper output)
{
    // Line numbers matter: the syntax cases expect bad.prototxt:<line>.
    private const string Deploy = """
        name: "bad"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 } }
        layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" inner_product_param { num_output: 5 } }
        """;

    private const string TrainNet = """
        name: "train"
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    private const string Solver = """
        net: "NET"
        base_lr: 0.1
        lr_policy: "fixed"
        max_iter: 1
        snapshot_after_train: false
        snapshot_prefix: "PREFIX"
        """;

    private sealed record Case(Func<TempDir, string[]> Setup, params string[] Expect);

    private static string[] Time(TempDir dir, string net)
    {
        File.WriteAllText(dir.Combine("bad.prototxt"), net);
        return ["time", "-model", dir.Combine("bad.prototxt"), "-iterations", "1"];
    }

    private static Case TimeCase(string from, string to, params string[] expect) =>
        new(dir => Time(dir, Replace(Deploy, from, to)), expect);

    private static Case AddLayerCase(string layer, params string[] expect) =>
        new(dir => Time(dir, Deploy + "\n" + layer), expect);

    private static string[] Train(TempDir dir, string solver, string net = TrainNet)
    {
        File.WriteAllText(dir.Combine("train.prototxt"), net);
        string text = solver.Replace("NET", dir.Combine("train.prototxt"), StringComparison.Ordinal)
            .Replace("PREFIX", dir.Combine("snap"), StringComparison.Ordinal);
        File.WriteAllText(dir.Combine("bad_solver.prototxt"), text);
        return ["train", "-solver", dir.Combine("bad_solver.prototxt")];
    }

    private static Case SolverCase(string from, string to, params string[] expect) =>
        new(dir => Train(dir, Replace(Solver, from, to)), expect);

    private static string[] Test(TempDir dir, string weights, string net = Deploy)
    {
        File.WriteAllText(dir.Combine("deploy.prototxt"), net);
        return ["test", "-model", dir.Combine("deploy.prototxt"), "-weights", weights, "-iterations", "1"];
    }

    private static string Replace(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["syntax_error"] = TimeCase("num_output: 4", "num_output 4", "bad.prototxt:3:", "num_output"),
        ["unknown_field"] = TimeCase("kernel_size: 3", "kernal_size: 3", "bad.prototxt:3:", "kernal_size"),
        ["bad_enum"] = TimeCase("pool: MAX", "pool: MAXIMUM", "bad.prototxt:4:", "MAXIMUM"),
        ["bad_number"] = TimeCase("num_output: 5", "num_output: abc", "bad.prototxt:5:", "abc"),
        ["unterminated_string"] = AddLayerCase("layer { name: \"relu", "bad.prototxt:6:", "nterminated"),
        ["unknown_bottom"] = TimeCase("bottom: \"pool\"", "bottom: \"pool2\"", "ip", "pool2"),
        ["unknown_layer_type"] = TimeCase("type: \"Pooling\"", "type: \"Poolin\"", "Poolin", "Pooling", "Convolution"),
        ["wrong_bottom_count"] = AddLayerCase("layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"ip\" top: \"loss\" }", "loss", "bottom"),
        ["kernel_larger_than_input"] = TimeCase("kernel_size: 3", "kernel_size: 11", "conv", "11"),
        ["negative_input_dim"] = TimeCase("dim: 3 dim: 8", "dim: 3 dim: -8", "data", "-8"),
        ["concat_shape_mismatch"] = AddLayerCase("layer { name: \"cat\" type: \"Concat\" bottom: \"data\" bottom: \"conv\" top: \"cat\" }", "cat"),
        ["duplicate_top"] = AddLayerCase("layer { name: \"conv2\" type: \"Convolution\" bottom: \"data\" top: \"conv\" convolution_param { num_output: 4 kernel_size: 3 } }", "conv"),
        ["pool_pad_not_below_kernel"] = TimeCase("stride: 2 }", "stride: 2 pad: 2 }", "pool", "pad"),
        ["loss_weight_count"] = TimeCase("top: \"ip\"", "top: \"ip\" loss_weight: 1 loss_weight: 2", "ip", "loss_weight"),
        ["zero_iterations"] = new(dir => [.. Time(dir, Deploy)[..3], "-iterations", "0"], "-iterations", "0"),

        ["missing_net_file"] = new(dir => Train(dir, Solver.Replace("NET", dir.Combine("nope.prototxt"), StringComparison.Ordinal)), "nope.prototxt"),
        ["test_iter_count"] = new(dir => Train(dir, Replace(Solver, "net: \"NET\"", "train_net: \"NET\"\ntest_net: \"NET\"\ntest_iter: 1\ntest_iter: 2\ntest_interval: 1")), "test_iter"),
        ["unknown_solver_type"] = SolverCase("lr_policy", "type: \"Sgdd\"\nlr_policy", "Sgdd"),
        ["unknown_lr_policy"] = SolverCase("\"fixed\"", "\"stepp\"", "stepp"),
        ["solver_syntax_error"] = SolverCase("base_lr: 0.1", "base_lr: 0.1.2", "bad_solver.prototxt:2:"),
        ["unknown_flag"] = new(dir => ["train", "-solverr", dir.Combine("s.prototxt")], "--solverr", "crema train --help"),
        ["bad_flag_value"] = new(dir => [.. Time(dir, Deploy)[..3], "-iterations", "abc"], "abc", "--iterations"),
        ["unknown_verb"] = new(_ => ["trian", "-solver", "s.prototxt"], "unknown verb 'trian'", "train, test, time"),
        ["missing_solver_flag"] = new(_ => ["train"], "-solver"),
        ["missing_solver_file"] = new(dir => ["train", "-solver", dir.Combine("nope_solver.prototxt")], "nope_solver.prototxt"),
        ["bad_net_in_solver"] = new(dir => Train(dir, Solver, Replace(TrainNet, "num_output: 2", "num_output: -2")), "train.prototxt:3:", "-2"),

        ["missing_weights_file"] = new(dir => Test(dir, dir.Combine("nope.caffemodel")), "nope.caffemodel"),
        ["corrupt_caffemodel"] = new(dir =>
        {
            var bytes = new byte[4096];
            new Random(1701).NextBytes(bytes);
            File.WriteAllBytes(dir.Combine("corrupt.caffemodel"), bytes);
            return Test(dir, dir.Combine("corrupt.caffemodel"));
        }, "corrupt.caffemodel"),
        ["weights_wrong_shape"] = new(dir =>
        {
            File.WriteAllText(dir.Combine("six.prototxt"), Replace(Deploy, "num_output: 5", "num_output: 6"));
            using (var net = new Crema.Nets.Net(Crema.Proto.ProtoFiles.ReadNetText(dir.Combine("six.prototxt")), Crema.Proto.Phase.Test))
            {
                net.Save(dir.Combine("six.caffemodel"));
            }
            return Test(dir, dir.Combine("six.caffemodel"));
        }, "ip", "6"),
        ["missing_model_flag"] = new(dir => ["test", "-weights", dir.Combine("w.caffemodel")], "-model"),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Fact]
    public void ThereAreAtLeastTwentyCases() => Assert.True(Cases.Count >= 20, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadInput_FailsWithOneClearLine(string name)
    {
        using var dir = new TempDir();
        string[] args = Cases[name].Setup(dir);
        var r = CliRunner.Run(args);
        output.WriteLine(r.Error);
        string all = r.AllText;
        Assert.False(all.Contains("   at ", StringComparison.Ordinal), $"stack trace leaked:\n{all}");
        Assert.True(r.ExitCode == 1, $"exit code {r.ExitCode}:\n{all}");
        Assert.True(r.ErrorLines.Length == 1, $"expected one line on stderr, got:\n{r.Error}");
        foreach (string expected in Cases[name].Expect)
        {
            Assert.True(r.ErrorLines[0].Contains(expected, StringComparison.Ordinal), $"'{expected}' missing from: {r.ErrorLines[0]}");
        }
    }
}
