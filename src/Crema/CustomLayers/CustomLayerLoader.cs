using Crema.Layers;
using Crema.Proto;

namespace Crema.CustomLayers;

/// <summary>Resolves <c>type: "Python"</c> layers to C# classes. (Placeholder: replaced by the Roslyn-backed loader.)</summary>
public static class CustomLayerLoader
{
    public static Layer Create(LayerParameter param, string? baseDirectory)
    {
        var p = param.PythonParam ?? throw new CremaException($"Layer '{param.Name}': type Python needs python_param {{ module layer }}");
        var found = LayerRegistry.TypeOf(p.Layer);
        if (found != null)
        {
            return (Layer)Activator.CreateInstance(found, param)!;
        }
        throw new CremaException($"Layer '{param.Name}': cannot resolve python_param module '{p.Module}' layer '{p.Layer}' (base folder {baseDirectory})");
    }
}
