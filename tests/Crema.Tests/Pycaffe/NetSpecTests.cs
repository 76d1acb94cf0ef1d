using Crema.Examples.NetSpecs;
using Crema.Nets;
using Crema.Proto;
using Crema.Proto.TextFormat;
using static Crema.Nets.NetSpecLayers;

namespace Crema.Tests.Pycaffe;

/// <summary>NetSpec: naming, in-place and multiple tops, parameter mapping, errors; LeNet and CaffeNet equal to Caffe's files.</summary>
public sealed class NetSpecTests
{
    private static NetParameter Parse(string text) => PrototxtParser.Parse<NetParameter>(text, "netspec.prototxt");

    [Fact]
    public void LeNet_EqualsTheBundledPrototxt_AndRoundTrips()
    {
        var spec = NetSpecExample.LeNet();
        var expected = ProtoFiles.ReadNetText(RepoPaths.Get("examples", "mnist", "lenet_train_test.prototxt"));
        Assert.Equal(expected, spec.ToProto());
        Assert.Equal(expected, Parse(spec.ToString()));
    }

    [Fact]
    public void CaffeNet_TrainValAndDeploy_EqualTheBundledPrototxts()
    {
        var trainVal = ProtoFiles.ReadNetText(Path.Combine(AppContext.BaseDirectory, "TestData", "models", "bvlc_caffe", "models_bvlc_reference_caffenet", "train_val.prototxt"));
        var deploy = ProtoFiles.ReadNetText(Path.Combine(AppContext.BaseDirectory, "TestData", "models", "bvlc_caffe", "models_bvlc_reference_caffenet", "deploy.prototxt"));
        Assert.Equal(trainVal, NetSpecExample.CaffeNet(deploy: false).ToProto());
        Assert.Equal(deploy, Parse(NetSpecExample.CaffeNet(deploy: true).ToString()));
    }

    [Fact]
    public void Example_Run_ReportsAllEqual()
    {
        var output = new StringWriter();
        Assert.True(NetSpecExample.Run(RepoPaths.Root, output), output.ToString());
        Assert.Contains("caffenet_deploy: 24 layers", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("lenet_train_test: 11 layers", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("caffenet_train_val: 26 layers", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Naming_FirstTopNamesTheLayer_UnassignedTopsGetTypeCounters()
    {
        var n = new NetSpec();
        var data = L.DummyData(shape: new { dim = new[] { 2, 3 } });
        n["out"] = L.InnerProduct(L.ReLU(data), numOutput: 4);
        var net = n.ToProto();
        Assert.Equal(["DummyData1", "ReLU1", "out"], net.Layer.Select(l => l.Name));
        Assert.Equal("DummyData1", net.Layer[1].Bottom[0]);
        Assert.Equal(["ReLU1"], net.Layer[2].Bottom);
        Assert.Equal(4u, net.Layer[2].InnerProductParam.NumOutput);
        Assert.Equal(3, net.Layer[0].DummyDataParam.Shape[0].Dim[1]);
    }

    [Fact]
    public void MultipleTops_InPlace_IncludeParamAndLayerFields()
    {
        var n = new NetSpec { Name = "t" };
        n["a", "b"] = L.Slice(L.Input(inputParam: new { shape = new { dim = new[] { 2, 4 } } }), axis: 1, slicePoint: 2, ntop: 2);
        n["r"] = L.Sigmoid(n["a"], inPlace: true);
        n["s"] = L.Eltwise(n["r"], n["b"], operation: "SUM", coeff: new[] { 1.0, -1.0 }, lossWeight: 0.5,
            include: new Dictionary<string, object?> { ["phase"] = "TRAIN", ["stage"] = new[] { "x", "y" }, ["maxLevel"] = 2 },
            propagateDown: new[] { true, false });
        n["ip"] = L.InnerProduct(n["s"], numOutput: 1, param: new[] { new ParamSpec { Name = "shared" } });
        var net = n.ToProto();
        var slice = net.Layer[1];
        Assert.Equal("a", slice.Name);
        Assert.Equal(["a", "b"], slice.Top);
        Assert.Equal([2u], slice.SliceParam.SlicePoint);
        var sigmoid = net.Layer[2];
        Assert.Equal(("r", "a", "a"), (sigmoid.Name, sigmoid.Bottom[0], sigmoid.Top[0]));
        var sum = net.Layer[3];
        Assert.Equal(["a", "b"], sum.Bottom);
        Assert.Equal(EltwiseParameter.Types.EltwiseOp.Sum, sum.EltwiseParam.Operation);
        Assert.Equal([1f, -1f], sum.EltwiseParam.Coeff);
        Assert.Equal([0.5f], sum.LossWeight);
        Assert.Equal(Phase.Train, sum.Include[0].Phase);
        Assert.Equal(["x", "y"], sum.Include[0].Stage);
        Assert.Equal(2, sum.Include[0].MaxLevel);
        Assert.Equal("shared", net.Layer[4].Param[0].Name);
        Assert.Equal([true, false], sum.PropagateDown);
        Assert.Equal(net, Parse(n.ToString()));
        // The built net runs: the spec is a real net, not only text.
        Log.Quiet = true;
        using var built = new Net(net, Phase.Train, null, 0, ["x", "y"]);
        Assert.Equal([2, 2], built.Blob("s").Shape);
        Assert.Equal([2, 1], built.Blob("ip").Shape);
    }

    [Fact]
    public void NoTopLayer_NamedByAssignment()
    {
        var n = new NetSpec();
        n["x"] = L.Input(inputParam: new { shape = new { dim = new[] { 1 } } });
        n["silence"] = L.Silence(n["x"], ntop: 0);
        var net = n.ToProto();
        Assert.Equal("silence", net.Layer[1].Name);
        Assert.Empty(net.Layer[1].Top);
    }

    [Fact]
    public void BadArguments_ClearErrors()
    {
        var n = new NetSpec();
        n["x"] = L.Input(inputParam: new { shape = new { dim = new[] { 1 } } });
        n["c"] = L.Convolution(n["x"], kernelSise: 3);
        var e = Assert.Throws<CremaException>(() => n.ToProto());
        Assert.Contains("unknown argument 'kernelSise' (kernel_sise): neither a field of convolution_param", e.Message, StringComparison.Ordinal);

        var p = new NetSpec();
        p["c"] = L.Pooling(L.Input(), pool: "MAXIMUM");
        e = Assert.Throws<CremaException>(() => p.ToProto());
        Assert.Contains("'MAXIMUM' is not a PoolMethod (values: MAX, AVE, STOCHASTIC)", e.Message, StringComparison.Ordinal);

        var m = new NetSpec();
        Assert.Contains("NetSpec has no top 'nope'", Assert.Throws<CremaException>(() => m["nope"]).Message, StringComparison.Ordinal);
        Assert.Throws<CremaException>(() => m["a", "b"] = L.ReLU(n["x"]));
        Assert.Throws<CremaException>(() => L.ReLU(5));
    }

    [Fact]
    public void SnakeCase_ConvertsCamelCase()
    {
        Assert.Equal("kernel_size", NetSpecLayer.SnakeCase("kernelSize"));
        Assert.Equal("hdf5_data_param", NetSpecLayer.SnakeCase("hdf5DataParam"));
        Assert.Equal("num_output", NetSpecLayer.SnakeCase("num_output"));
    }
}
