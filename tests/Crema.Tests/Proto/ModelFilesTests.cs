using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Tests.Proto;

/// <summary>Every bundled real-world prototxt parses (upgrading where needed), prints and re-parses to an equal message.</summary>
public class ModelFilesTests
{
    internal static string TestData => Path.Combine(AppContext.BaseDirectory, "TestData");

    private static string ModelsDir => Path.Combine(TestData, "models");

    public static TheoryData<string> PrototxtFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(ModelsDir, "*.prototxt", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(ModelsDir, file).Replace('\\', '/'));
        return data;
    }

    private static bool IsSolver(string relative) =>
        Path.GetFileName(relative).Contains("solver", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void AllModelFilesAreBundled() => Assert.True(PrototxtFiles().Count >= 80, $"only {PrototxtFiles().Count} prototxt files");

    [Theory]
    [MemberData(nameof(PrototxtFiles))]
    public void Parses_Prints_ReparsesEqual(string relative)
    {
        string path = Path.Combine(ModelsDir, relative);
        if (IsSolver(relative))
        {
            var solver = ProtoFiles.ReadSolver(path);
            Assert.False(solver.HasSolverType);
            var again = PrototxtParser.Parse<SolverParameter>(PrototxtPrinter.Print(solver), relative);
            Assert.Equal(solver, again);
            return;
        }
        var raw = PrototxtParser.Parse<NetParameter>(File.ReadAllText(path), relative);
        Assert.Equal(raw, PrototxtParser.Parse<NetParameter>(PrototxtPrinter.Print(raw), relative));

        var net = ProtoFiles.ReadNetText(path);
        Assert.False(NetUpgrader.NeedsUpgrade(net));
        Assert.Empty(net.Layers);
        Assert.Empty(net.Input);
        Assert.NotEmpty(net.Layer);
        Assert.All(net.Layer, l => Assert.False(string.IsNullOrEmpty(l.Type), $"layer '{l.Name}' has no type"));
        var printed = PrototxtPrinter.Print(net);
        Assert.Equal(net, PrototxtParser.Parse<NetParameter>(printed, relative));
        // printing is a fixed point
        Assert.Equal(printed, PrototxtPrinter.Print(PrototxtParser.Parse<NetParameter>(printed, relative)));
    }

    [Fact]
    public void LeNet_HasExpectedLayers()
    {
        var net = ProtoFiles.ReadNet(Path.Combine(ModelsDir, "bvlc_caffe/examples_mnist/lenet_train_test.prototxt"));
        Assert.Equal("LeNet", net.Name);
        Assert.Equal(["mnist", "mnist", "conv1", "pool1", "conv2", "pool2", "ip1", "relu1", "ip2", "accuracy", "loss"],
            net.Layer.Select(l => l.Name));
        var conv1 = net.Layer[2];
        Assert.Equal(20u, conv1.ConvolutionParam.NumOutput);
        Assert.Equal(Phase.Train, net.Layer[0].Include[0].Phase);
        Assert.Equal(0.00390625f, net.Layer[0].TransformParam.Scale);
        Assert.Equal(DataParameter.Types.DB.Lmdb, net.Layer[0].DataParam.Backend);
    }

    [Fact]
    public void DeployWithInputDims_GetsInputLayerFirst()
    {
        var net = ProtoFiles.ReadNetText(Path.Combine(ModelsDir, "resnet/ResNet-50-deploy.prototxt"));
        var input = net.Layer[0];
        Assert.Equal(("input", "Input"), (input.Name, input.Type));
        Assert.Equal(["data"], input.Top);
        Assert.Equal([1L, 3, 224, 224], input.InputParam.Shape[0].Dim);
    }

    [Fact]
    public void V1Prototxt_IsUpgraded()
    {
        var net = ProtoFiles.ReadNetText(Path.Combine(ModelsDir, "everpeace_caffe_2014_v1/mnist/lenet.prototxt"));
        Assert.Equal("Input", net.Layer[0].Type);
        var conv1 = net.Layer.Single(l => l.Name == "conv1");
        Assert.Equal("Convolution", conv1.Type);
        Assert.Equal([1f, 2f], conv1.Param.Select(p => p.LrMult));
        Assert.Contains(net.Layer, l => l.Type == "InnerProduct");
    }

    [Fact]
    public void Solver_Fields()
    {
        var solver = ProtoFiles.ReadSolver(Path.Combine(ModelsDir, "bvlc_caffe/examples_mnist/lenet_solver_adam.prototxt"));
        Assert.Equal("Adam", solver.Type);
        Assert.Equal(0.001f, solver.BaseLr);
        Assert.Equal(SolverParameter.Types.SolverMode.Gpu, solver.SolverMode);
    }
}
