using Crema.Layers;

namespace Crema.Scripting;

/// <summary>The switch that lets nets use <c>type: "Python"</c> layers written in C#.</summary>
public static class CSharpLayers
{
    /// <summary>
    /// Installs <see cref="CustomLayerLoader"/> as the registry's Python-layer resolver, so a net's <c>python_param</c> finds its
    /// class in a <c>.cs</c> file (compiled with Roslyn), a <c>.dll</c> or a loaded assembly. Call once at start-up; repeat calls are harmless.
    /// </summary>
    public static void Enable() => LayerRegistry.PythonResolver = CustomLayerLoader.Create;
}
