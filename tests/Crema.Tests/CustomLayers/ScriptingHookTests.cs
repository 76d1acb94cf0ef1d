using Crema.Layers;
using Crema.Nets;
using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Tests.CustomLayers;

/// <summary>How the core finds the C# compiler (Crema.Scripting), and where a Python layer's relative module is looked for.</summary>
public class ScriptingHookTests
{
    [Fact]
    public void CoreWithoutScripting_SaysWhichPackageAndCallToAdd()
    {
        var e = Assert.Throws<CremaException>(() =>
            LayerRegistry.CreatePython(CustomLayerFiles.Python("loss", "pyloss.cs", "EuclideanLossLayer"), null, resolver: null));
        Assert.Contains("Layer 'loss'", e.Message, StringComparison.Ordinal);
        Assert.Contains("module 'pyloss.cs'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Crema.Scripting", e.Message, StringComparison.Ordinal);
        Assert.Contains("CSharpLayers.Enable()", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NetReadFromFile_FindsTheModuleNextToThePrototxt()
    {
        // A factor unique to this test, so the file is compiled here (not found in the loader's cache) and the log line shows.
        float factor = 5f + Random.Shared.Next(1, 1000) / 1000f;
        string dir = CustomLayerFiles.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "scaler.cs"), CustomLayerLoaderTests.ScalerSource(factor));
        string text = """
            name: "scaled"
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 } } }
            layer { name: "s" type: "Python" bottom: "x" top: "y" python_param { module: "scaler.cs" layer: "Scaler" } }
            """;
        string prototxt = Path.Combine(dir, "scaled.prototxt");
        File.WriteAllText(prototxt, text);
        Assert.NotEqual(Path.GetFullPath(dir), Path.GetFullPath(Directory.GetCurrentDirectory()));

        var lines = new List<string>();
        using (Log.Capture(lines))
        {
            using var net = new Net(ProtoFiles.ReadNetText(prototxt), Phase.Test);
            net.Blob("x").Data[0] = 2f;
            net.Forward();
            Assert.Equal(2f * factor, net.Blob("y").Data[0]);
        }
        Assert.Single(lines, l => l.EndsWith("Compiling C# layer scaler.cs…", StringComparison.Ordinal));

        // The same text parsed from a string has no folder: the module is looked for in the current folder, and is not there.
        var fromString = PrototxtParser.Parse<NetParameter>(text, "scaled.prototxt");
        var e = Assert.Throws<CremaException>(() => new Net(fromString, Phase.Test));
        Assert.Contains("module 'scaler.cs' not found", e.Message, StringComparison.Ordinal);
    }
}
