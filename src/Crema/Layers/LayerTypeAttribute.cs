namespace Crema.Layers;

/// <summary>Names the prototxt <c>type:</c> a layer class implements. A class may carry several (aliases).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LayerTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
