using Crema.Imaging;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;
using Crema.Tests.Data;
using static Crema.Nets.NetSpecLayers;

namespace Crema.Tests.Pycaffe;

/// <summary>
/// Every C# snippet of docs/from-pycaffe.md and examples/netspec/README.md, compiled and run here. The first test checks
/// that each ```csharp block of those files appears, line for line, in this file, so the guide cannot drift from code
/// that compiles.
/// </summary>
public sealed class FromPycaffeGuideTests
{
    private static readonly string Model = RepoPaths.Get("examples", "mnist", "lenet.prototxt");
    private static readonly string Weights = RepoPaths.Get("tests", "Crema.Tests", "TestData", "caffemodels", "lenet_iter_10000.caffemodel");
    private static readonly string Cat = RepoPaths.Get("examples", "feature_extraction", "cat.jpg");

    [Theory]
    [InlineData("docs/from-pycaffe.md")]
    [InlineData("examples/netspec/README.md")]
    public void EverySnippet_IsInThisFile(string document)
    {
        static string[] Lines(IEnumerable<string> lines) => lines.Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        string[] source = Lines(File.ReadAllLines(RepoPaths.Get("tests", "Crema.Tests", "Pycaffe", "FromPycaffeGuideTests.cs")));
        string[] doc = File.ReadAllLines(Path.Combine(RepoPaths.Root, document));
        int blocks = 0;
        for (int i = 0; i < doc.Length; i++)
        {
            if (doc[i].Trim() != "```csharp")
            {
                continue;
            }
            int end = Array.FindIndex(doc, i + 1, l => l.Trim() == "```");
            string[] block = Lines(doc[(i + 1)..end]);
            bool found = Enumerable.Range(0, source.Length - block.Length + 1).Any(s => source.AsSpan(s, block.Length).SequenceEqual(block));
            Assert.True(found, $"{document} line {i + 1}: this snippet is not in FromPycaffeGuideTests.cs:\n{string.Join('\n', block)}");
            blocks++;
            i = end;
        }
        Assert.True(blocks > 0, $"{document} has no csharp snippet");
    }

    [Fact]
    public void Snippet_NetForwardBackward()
    {
        Log.Quiet = true;
        string model = Model, weights = Weights;
        // snippet: net
        using var net = new Net(ProtoFiles.ReadNetText(model), Phase.Test);
        net.CopyTrainedLayersFrom(weights);
        Console.WriteLine($"{string.Join(",", net.Inputs)} -> {string.Join(",", net.Outputs)}"); // data -> prob

        float[] batch = new float[64 * 1 * 28 * 28];           // exactly one batch: the input blob's count
        var outputs = net.Forward(new Dictionary<string, float[]> { ["data"] = batch }, ["ip1"]);
        float[] prob = outputs["prob"];                          // 64 × 10, a copy
        float[] ip1 = outputs["ip1"];                            // 64 × 500

        float[] digits = new float[100 * 28 * 28];               // any number of items
        var all = net.ForwardAll(new Dictionary<string, float[]> { ["data"] = digits });
        Console.WriteLine(all["prob"].Length);                   // 1000: 100 digits × 10 classes

        net.Forward(start: "conv1", end: "ip2");                 // a range of layers, by name
        net.Backward(start: "ip2", end: "conv1");
        net.Blob("data").Reshape(1, 1, 28, 28);
        net.Reshape();                                           // every blob above gets the new batch size
        // end snippet
        Assert.Equal(640, prob.Length);
        Assert.Equal(64 * 500, ip1.Length);
        Assert.Equal(1000, all["prob"].Length);
        Assert.Equal([1, 10], net.Blob("prob").Shape);
    }

    [Fact]
    public void Snippet_BlobsParamsSurgery()
    {
        Log.Quiet = true;
        using var dir = new TempDir();
        string model = Model, weights = Weights, path = dir.Combine("surgery.caffemodel");
        using var net = new Net(ProtoFiles.ReadNetText(model), Phase.Test);
        net.CopyTrainedLayersFrom(weights);
        // snippet: surgery
        Blob conv1 = net.Blob("conv1");                          // net.blobs['conv1']
        Console.WriteLine(conv1.ShapeString());                  // 64 20 24 24 (737280)
        Span<float> w = net.Params["conv1"][0].Data;             // net.params['conv1'][0].data (20 1 5 5)
        Span<float> b = net.Params["conv1"][1].Data;             // its bias
        w[..25].Clear();                                         // surgery: filter 0 := 0
        b[0] = 1;
        net.Save(path);                                          // net.save(path)
        // end snippet
        using var again = new Net(ProtoFiles.ReadNetText(model), Phase.Test);
        again.CopyTrainedLayersFrom(path);
        Assert.Equal("64 20 24 24 (737280)", conv1.ShapeString());
        Assert.Equal(1, again.Params["conv1"][1].Data[0]);
        Assert.All(again.Params["conv1"][0].Data[..25].ToArray(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void Snippet_Solver()
    {
        Log.Quiet = true;
        using var dir = new TempDir();
        var n = new NetSpec();
        n["data"] = L.DummyData(shape: new { dim = new[] { 4, 3 } }, dataFiller: new { type = "gaussian" });
        n["label"] = L.DummyData(shape: new { dim = new[] { 4 } }, dataFiller: new { type = "constant", value = 1 });
        n["ip"] = L.InnerProduct(n["data"], numOutput: 2, weightFiller: new { type = "xavier" });
        n["loss"] = L.SoftmaxWithLoss(n["ip"], n["label"]);
        File.WriteAllText(dir.Combine("net.prototxt"), n.ToString());
        File.WriteAllText(dir.Combine("solver.prototxt"), "net: \"net.prototxt\"\nbase_lr: 0.1\nlr_policy: \"fixed\"\nmax_iter: 10\ntest_iter: 1\ntest_interval: 1000\n");
        string solverPath = dir.Combine("solver.prototxt");
        // snippet: solver
        var solver = SolverFactory.FromFile(solverPath);         // caffe.get_solver / caffe.SGDSolver(path)
        solver.Step(1);                                          // solver.step(1): forward, backward, update
        float loss = solver.Net.Blob("loss").Data[0];            // solver.net.blobs['loss'].data
        solver.TestNets[0].Forward();                            // solver.test_nets[0].forward(), shares the weights
        Console.WriteLine($"iteration {solver.Iteration}, loss {loss}");
        // end snippet
        Assert.Equal(1, solver.Iteration);
        Assert.True(loss > 0);
    }

    [Fact]
    public void Snippet_TransformerAndImageIO()
    {
        Log.Quiet = true;
        string dir = RepoPaths.Get("examples", "feature_extraction");
        using var net = new Net(ProtoFiles.ReadNetText(Path.Combine(dir, "SqueezeNet_deploy.prototxt")), Phase.Test);
        string cat = Cat;
        // snippet: transformer
        FloatImage image = ImageIO.Load(cat);                    // caffe.io.load_image: H×W×3 RGB in [0, 1]
        var t = Transformer.ForNet(net);                         // caffe.io.Transformer({'data': net.blobs['data'].data.shape})
        t.SetTranspose("data", 2, 0, 1);                         // H×W×K → K×H×W
        t.SetChannelSwap("data", 2, 1, 0);                       // RGB → BGR
        t.SetRawScale("data", 255);                              // [0, 1] → [0, 255]
        t.SetMean("data", [104f, 117f, 123f]);                   // per channel (BGR), or a mean image Blob
        float[] chw = t.Preprocess("data", image);               // resized to 227×227, 3×227×227
        FloatImage back = t.Deprocess("data", chw);              // and back to H×W×K RGB
        FloatImage small = ImageIO.Resize(image, 256, 256);      // caffe.io.resize_image
        var crops = ImageIO.Oversample([small], 227, 227);       // caffe.io.oversample: 10 crops
        // end snippet
        Assert.Equal(3 * 227 * 227, chw.Length);
        Assert.Equal((227, 227, 3), (back.Height, back.Width, back.Channels));
        Assert.Equal(10, crops.Count);
    }

    [Fact]
    public void Snippet_ClassifierAndDetector()
    {
        Log.Quiet = true;
        string model = Model, weights = Weights;
        FloatImage[] images = [new FloatImage(28, 28, 1), new FloatImage(30, 40, 1)];
        FloatImage photo = new(28, 56, 1);
        // snippet: classifier
        var preprocessing = new ImagePreprocessing(RawScale: 255, InputScale: 0.00390625f); // or ImagePreprocessing.ImageNet
        using var classifier = new Classifier(model, weights, preprocessing, imageDimensions: (32, 32));
        float[][] scores = classifier.Predict(images);                    // 10 crops averaged per image
        float[][] centre = classifier.Predict(images, oversample: false); // centre crop only

        using var detector = new Detector(model, weights, preprocessing, contextPad: 0);
        var detections = detector.DetectWindows([(photo, (IReadOnlyList<Window>)[new Window(0, 0, 28, 28), new Window(0, 28, 28, 56)])]);
        Console.WriteLine($"{detections.Count} windows, {detections[0].Prediction.Length} scores each");
        // end snippet
        Assert.Equal(2, scores.Length);
        Assert.Equal(10, centre[1].Length);
        Assert.Equal(2, detections.Count);
    }

    [Fact]
    public void Snippet_NetSpec()
    {
        // snippet: netspec (also in examples/netspec/README.md)
        var n = new NetSpec { Name = "LeNet" };
        n["data", "label"] = L.Data(source: "mnist_train_lmdb", backend: "LMDB", batchSize: 64, ntop: 2,
            transformParam: new { scale = 0.00390625 });
        n["conv1"] = L.Convolution(n["data"], kernelSize: 5, numOutput: 20, weightFiller: new FillerParameter { Type = "xavier" });
        n["relu1"] = L.ReLU(n["conv1"], inPlace: true);
        Console.WriteLine(n);
        // end snippet
        var net = n.ToProto();
        Assert.Equal(["data", "conv1", "relu1"], net.Layer.Select(l => l.Name));
        Assert.Equal("conv1", net.Layer[2].Top[0]);
    }
}
