using System.Collections.Concurrent;
using System.Reflection;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// The open map from prototxt <c>type:</c> names to layer factories. Crema's own layers register themselves through
/// <see cref="LayerTypeAttribute"/>; users add theirs with <see cref="Register{T}(string)"/> or <see cref="RegisterAssembly"/>.
/// </summary>
public static class LayerRegistry
{
    private static readonly ConcurrentDictionary<string, Func<LayerParameter, Layer>> Factories = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Type> Types = new(StringComparer.Ordinal);

    static LayerRegistry() => RegisterAssembly(typeof(Layer).Assembly);

    /// <summary>
    /// Creates <c>type: "Python"</c> layers from <c>python_param</c>; gets the base folder for relative module paths. The core
    /// has none: the Crema.Scripting package sets it (<c>Crema.Scripting.CSharpLayers.Enable()</c>), so Roslyn stays out of the core.
    /// </summary>
    public static Func<LayerParameter, string?, Layer>? PythonResolver { get; set; }

    public static IReadOnlyCollection<string> KnownTypes => Factories.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool IsRegistered(string type) => Factories.ContainsKey(type);

    /// <summary>The class registered under <paramref name="type"/>, if it was registered by class.</summary>
    public static Type? TypeOf(string type) => Types.GetValueOrDefault(type);

    public static void Register(string type, Func<LayerParameter, Layer> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        Factories[type] = factory;
    }

    /// <summary>Registers <typeparamref name="T"/> (which needs a constructor taking a <see cref="LayerParameter"/>) under <paramref name="type"/>.</summary>
    public static void Register<T>(string type) where T : Layer => Register(type, typeof(T));

    public static void Register(string type, Type layerClass)
    {
        var ctor = layerClass.GetConstructor([typeof(LayerParameter)])
            ?? throw new ArgumentException($"layer class {layerClass.FullName} needs a public constructor taking a LayerParameter");
        Types[type] = layerClass;
        Register(type, p => (Layer)ctor.Invoke([p]));
    }

    /// <summary>Registers every non-abstract <see cref="Layer"/> subclass in <paramref name="assembly"/> that carries <see cref="LayerTypeAttribute"/>.</summary>
    public static void RegisterAssembly(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes())
        {
            if (type.IsAbstract || !typeof(Layer).IsAssignableFrom(type))
            {
                continue;
            }
            foreach (var attr in type.GetCustomAttributes<LayerTypeAttribute>())
            {
                Register(attr.Name, type);
            }
        }
    }

    /// <summary>Creates the layer for <paramref name="param"/>; <paramref name="baseDirectory"/> resolves relative paths of custom layer sources.</summary>
    public static Layer Create(LayerParameter param, string? baseDirectory = null)
    {
        string type = param.Type;
        if (type == "Python")
        {
            return CreatePython(param, baseDirectory, PythonResolver);
        }
        if (!Factories.TryGetValue(type, out var factory))
        {
            throw new CremaException($"Layer '{param.Name}': unknown layer type '{type}'{TypeSuggestion.DidYouMean(type, KnownTypes)} (known: {string.Join(", ", KnownTypes)})");
        }
        try
        {
            return factory(param);
        }
        catch (TargetInvocationException e) when (e.InnerException != null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    internal static Layer CreatePython(LayerParameter param, string? baseDirectory, Func<LayerParameter, string?, Layer>? resolver)
    {
        if (resolver == null)
        {
            string module = param.PythonParam?.Module is { Length: > 0 } m ? $" (module '{m}')" : "";
            throw new CremaException($"Layer '{param.Name}' (type Python){module}: Python layers are C# classes found or compiled by " +
                "the Crema.Scripting package: add a reference to Crema.Scripting and call Crema.Scripting.CSharpLayers.Enable() once at start-up");
        }
        return resolver(param, baseDirectory);
    }
}
