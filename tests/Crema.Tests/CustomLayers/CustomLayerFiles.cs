using Crema.Proto;

namespace Crema.Tests.CustomLayers;

/// <summary>Paths to examples/custom_layers and temp folders for the custom-layer tests.</summary>
internal static class CustomLayerFiles
{
    public static string ExamplesDir { get; } = FindExamples();

    public static LayerParameter Python(string name, string module, string layer, string paramStr = "", string type = "Python") => new()
    {
        Name = name,
        Type = type,
        PythonParam = new PythonParameter { Module = module, Layer = layer, ParamStr = paramStr },
    };

    /// <summary>A fresh folder under the system temp folder, for .cs files a test writes.</summary>
    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "crema-custom-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindExamples()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "examples", "custom_layers");
            if (File.Exists(Path.Combine(dir.FullName, "Crema.slnx")) && Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"examples/custom_layers not found above {AppContext.BaseDirectory}");
    }
}
