using Crema.Nets;
using Crema.Proto;

namespace Crema.Tests.Models;

/// <summary>
/// Every net prototxt from the model zoo and Caffe's examples (tests/Crema.Tests/TestData/models) builds into a Net in each
/// phase it defines and runs forward, with its data layers replaced by DummyData of the shapes the real data would have
/// (batch 2, or 1 for the large ImageNet nets). Build-only in the default suite for the heavy nets; their forward runs in
/// the Slow category.
/// </summary>
public class ModelZooTests
{
    private static readonly string ModelsRoot = Path.Combine(AppContext.BaseDirectory, "TestData", "models");

    // Heavy ImageNet-sized nets: forward is a Slow test.
    private static readonly string[] Heavy = ["vgg", "resnet", "googlenet", "fcn", "alexnet", "caffenet", "squeezenet", "mobilenet"];

    public static TheoryData<string> NetFiles()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(ModelsRoot, "*.prototxt", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string rel = Path.GetRelativePath(ModelsRoot, file).Replace('\\', '/');
            if (rel.Contains("solver", StringComparison.Ordinal) || rel.StartsWith("bvlc_caffe/upgrade_proto_vectors", StringComparison.Ordinal))
            {
                continue;
            }
            data.Add(rel);
        }
        return data;
    }

    private static bool IsHeavy(string rel) => Heavy.Any(h => rel.Contains(h, StringComparison.OrdinalIgnoreCase));

    [Theory]
    [MemberData(nameof(NetFiles))]
    public void Builds_AndRunsForwardWhenLight(string rel) => Check(rel, forward: !IsHeavy(rel));

    [Theory]
    [MemberData(nameof(NetFiles))]
    [Trait("Category", "Slow")]
    public void RunsForward(string rel) => Check(rel, forward: true);

    private static void Check(string rel, bool forward)
    {
        Log.Quiet = true;
        string path = Path.Combine(ModelsRoot, rel);
        var param = ProtoFiles.ReadNetText(path);
        string folder = PrepareFolder(rel, path);
        bool deploy = !param.Layer.Any(l => l.Include.Any(r => r.HasPhase) || l.Exclude.Any(r => r.HasPhase) || l.Type.Contains("Loss", StringComparison.Ordinal));
        // Nets whose test data layers are chosen by stage (mnist_autoencoder's test-on-train / test-on-test) get the first stage.
        string? stage = param.Layer.SelectMany(l => l.Include).SelectMany(r => r.Stage).FirstOrDefault();
        foreach (var phase in deploy ? [Phase.Test] : new[] { Phase.Train, Phase.Test })
        {
            var dummy = WithDummyInputs(param, rel, IsHeavy(rel) ? 1 : 2);
            using var net = new Net(dummy, phase, folder, 0, stage == null ? null : [stage]);
            Assert.NotEmpty(net.Layers);
            if (forward)
            {
                float loss = net.Forward();
                Assert.False(float.IsNaN(loss), $"{rel} ({phase}): loss is NaN");
                foreach (var output in net.OutputBlobs)
                {
                    Assert.DoesNotContain(output.Data.ToArray(), float.IsNaN);
                }
            }
        }
    }

    // linreg.prototxt's loss is a Python layer (module pyloss): Crema finds pyloss.cs beside the prototxt, so the C#
    // Euclidean loss from examples/custom_layers stands in for the Python one, unchanged prototxt.
    private static string PrepareFolder(string rel, string path)
    {
        if (!rel.EndsWith("linreg.prototxt", StringComparison.Ordinal))
        {
            return Path.GetDirectoryName(path)!;
        }
        string dir = Path.Combine(Path.GetTempPath(), "crema-zoo-linreg");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "pyloss.cs"), File.ReadAllText(RepoPaths.Get("examples", "custom_layers", "euclidean_loss.cs")));
        return dir;
    }

    /// <summary>Replaces data-reading layers by DummyData with the real data's shapes and shrinks Input batches.</summary>
    private static NetParameter WithDummyInputs(NetParameter param, string rel, int batch)
    {
        var result = param.Clone();
        for (int i = 0; i < result.Layer.Count; i++)
        {
            var layer = result.Layer[i];
            if (layer.Type == "Input")
            {
                foreach (var shape in layer.InputParam.Shape)
                {
                    shape.Dim[0] = Math.Min(shape.Dim[0], batch);
                }
                continue;
            }
            bool isData = layer.Type is "Data" or "ImageData" or "HDF5Data" or "WindowData" or "MemoryData"
                || (layer.Type == "Python" && layer.Bottom.Count == 0);
            if (!isData)
            {
                continue;
            }
            var dummy = new LayerParameter { Name = layer.Name, Type = "DummyData", DummyDataParam = new DummyDataParameter() };
            dummy.Top.AddRange(layer.Top);
            dummy.Include.AddRange(layer.Include);
            dummy.Exclude.AddRange(layer.Exclude);
            var (c, h, w) = ImageShape(rel, layer);
            for (int t = 0; t < layer.Top.Count; t++)
            {
                var shape = new BlobShape();
                bool label = t > 0;
                if (!label)
                {
                    shape.Dim.AddRange([batch, c, h, w]);
                    dummy.DummyDataParam.DataFiller.Add(new FillerParameter { Type = "uniform", Min = 0, Max = 1 });
                }
                else if (rel.Contains("fcn", StringComparison.Ordinal))
                {
                    shape.Dim.AddRange([batch, 1, h, w]);
                    dummy.DummyDataParam.DataFiller.Add(new FillerParameter { Type = "constant", Value = 1 });
                }
                else
                {
                    shape.Dim.Add(batch);
                    dummy.DummyDataParam.DataFiller.Add(new FillerParameter { Type = "constant", Value = 1 });
                }
                dummy.DummyDataParam.Shape.Add(shape);
            }
            result.Layer[i] = dummy;
        }
        return result;
    }

    private static (int C, int H, int W) ImageShape(string rel, LayerParameter layer)
    {
        int crop = (int)(layer.TransformParam?.CropSize ?? 0);
        if (rel.Contains("siamese", StringComparison.Ordinal))
        {
            return (2, 28, 28);
        }
        if (rel.Contains("mnist", StringComparison.Ordinal))
        {
            return (1, 28, 28);
        }
        if (rel.Contains("cifar", StringComparison.Ordinal))
        {
            return (3, 32, 32);
        }
        if (rel.Contains("fcn", StringComparison.Ordinal))
        {
            return (3, 128, 128);
        }
        return crop > 0 ? (3, crop, crop) : (3, 227, 227);
    }
}
