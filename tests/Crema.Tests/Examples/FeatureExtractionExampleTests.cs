using Crema.Examples;
using Crema.Proto;
using Crema.Tests.Cli;
using Crema.Tests.Data;
using Crema.Tools;

namespace Crema.Tests.Examples;

/// <summary>examples/feature_extraction: shapes, .npy files, the verb against the C# API, SqueezeNet on the cat.</summary>
[Collection(CliCollection.Name)]
public sealed class FeatureExtractionExampleTests
{
    private static FeatureExtraction.Options Options(TempDir dir, string? weights = null) =>
        new(RepoPaths.Root, OutDirectory: dir.Combine("out"), LeNetWeights: weights, MnistDbDirectory: dir.Path);

    [Fact]
    public void LeNet_Ip1FeaturesFromVerbAndApiAgree_NearestNeighbourClassifies()
    {
        using var dir = new TempDir();
        var options = Options(dir, RepoPaths.Get("tests", "Crema.Tests", "TestData", "caffemodels", "lenet_iter_10000.caffemodel"));
        // The verb first, as the README: the example then compares its own features with the verb's file.
        FeatureExtraction.EnsureMnistDb(options, "test");
        string model = dir.Combine("lenet_test.prototxt");
        ProtoFiles.WriteTextAtomic(FeatureExtraction.WithSource(RepoPaths.Get("examples", "mnist", "lenet_train_test.prototxt"), dir.Combine("mnist_test_lmdb")), model);
        Directory.CreateDirectory(options.Out);
        var verb = CliRunner.Run("extract_features", options.LeNetWeights!, model, "ip1", Path.Combine(options.Out, "ip1.npy"), "20", "npy");
        Assert.True(verb.ExitCode == 0, verb.AllText);

        var output = new StringWriter();
        var result = FeatureExtraction.LeNet(options, output);

        Assert.Equal([2000, 500], result.TestShape);
        Assert.Equal([8000, 500], result.TrainShape);
        Assert.Equal(0, result.MaxDifferenceFromVerb);
        var (shape, data) = NpyFile.Read(Path.Combine(options.Out, "ip1_test_api.npy"));
        Assert.Equal([2000, 500], shape);
        Assert.True(data.All(v => v >= 0), "ip1 after relu1 is non-negative");
        Assert.Contains(NpyFile.Read(Path.Combine(options.Out, "ip1_test_before_relu.npy")).Data, v => v < 0);
        Assert.Equal([2000], NpyFile.Read(Path.Combine(options.Out, "labels_test.npy")).Shape);
        Assert.True(result.NetAccuracy > 0.95, $"LeNet accuracy {result.NetAccuracy}");
        Assert.True(result.NearestNeighbourAccuracy > 0.95, $"1-NN accuracy {result.NearestNeighbourAccuracy}");
        Assert.Contains("max |difference| 0", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NearestNeighbour_PicksTheClosestRow()
    {
        float[] gallery = [0, 0, 10, 0, 0, 10];
        float[] labels = [0, 1, 2];
        float[] queries = [9, 1, 1, 8, 0.5f, 0.2f];
        Assert.Equal(1.0, FeatureExtraction.NearestNeighbourAccuracy(gallery, labels, queries, [1, 2, 0], 2));
        Assert.Equal(1 / 3.0, FeatureExtraction.NearestNeighbourAccuracy(gallery, labels, queries, [1, 0, 1], 2), 6);
    }

    [Fact]
    public void SqueezeNet_CatPhoto_TopClassesAsCaffe()
    {
        using var dir = new TempDir();
        var output = new StringWriter();
        var results = FeatureExtraction.SqueezeNet(Options(dir), output);

        var cat = results[0];
        Assert.Equal("cat.jpg", cat.Image);
        // Real Caffe, same weights and preprocessing (shared/models/SOURCES.md): 278 kit fox first, then 263 and 277.
        Assert.Equal(278, cat.Top5[0].Class);
        Assert.Contains(277, cat.Top5.Take(3).Select(t => t.Class));
        Assert.Contains(263, cat.Top5.Take(3).Select(t => t.Class));
        Assert.InRange(cat.Top5.Sum(t => t.Probability), 0.5f, 1.0001f);
        Assert.Contains("kit fox", output.ToString(), StringComparison.Ordinal);
        Assert.Equal([2, 1000], NpyFile.Read(Path.Combine(dir.Combine("out"), "squeezenet_pool_final.npy")).Shape);
        Assert.Contains("fire9/concat (2 512 13 13", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CaffeNet_Fc7Is4096_WithTheApiAndTheVerb()
    {
        using var dir = new TempDir();
        var options = Options(dir);
        Assert.Equal([1, 4096], FeatureExtraction.CaffeNet(options, TextWriter.Null));

        string fc7 = Path.Combine(options.Out, "fc7.npy");
        var verb = CliRunner.Run("extract_features", Path.Combine(options.Out, "caffenet_no_weights.caffemodel"),
            Path.Combine(options.ExampleDirectory, "caffenet_deploy.prototxt"), "fc7", fc7, "1", "npy");
        Assert.True(verb.ExitCode == 0, verb.AllText);
        Assert.Equal([10, 4096], NpyFile.Read(fc7).Shape);
    }
}
