using Crema.Proto;
using Crema.Proto.TextFormat;

namespace Crema.Nets;

/// <summary>
/// Builds a <see cref="NetParameter"/> from C#, as pycaffe's <c>caffe.NetSpec</c>: assign the tops of layers made by
/// <see cref="NetSpecLayers.L"/> to names, then <see cref="ToProto"/> or <see cref="ToString"/> (prototxt).
/// </summary>
/// <remarks>
/// A layer is named after its first top; blobs are named by the names you assign, or <c>Type1</c>, <c>Type2</c>, … when
/// never assigned. Assigning a name that already exists adds another layer producing that blob (as Caffe allows for
/// phase-specific data layers) and later references use the newest one. A layer made with <c>inPlace: true</c> writes
/// into its bottom, so its top is named after the bottom blob while the layer takes the assigned name.
/// </remarks>
/// <example>
/// <code>
/// using static Crema.Nets.NetSpecLayers;
/// var n = new NetSpec { Name = "LeNet" };
/// n["data", "label"] = L.Data(source: "mnist_train_lmdb", backend: "LMDB", batchSize: 64, ntop: 2, transformParam: new { scale = 0.00390625 });
/// n["conv1"] = L.Convolution(n["data"], kernelSize: 5, numOutput: 20, weightFiller: new { type = "xavier" });
/// string prototxt = n.ToString();
/// </code>
/// </example>
public sealed class NetSpec
{
    private readonly List<(string Name, NetSpecTop Top)> _assigned = [];

    /// <summary>The net's <c>name</c> in the prototxt (empty: none).</summary>
    public string Name { get; set; } = "";

    /// <summary>The top last assigned to <paramref name="name"/>; assigning records a new named top.</summary>
    /// <exception cref="CremaException">Reading a name never assigned.</exception>
    public NetSpecTop this[string name]
    {
        get
        {
            for (int i = _assigned.Count - 1; i >= 0; i--)
            {
                if (_assigned[i].Name == name)
                {
                    return _assigned[i].Top;
                }
            }
            throw new CremaException($"NetSpec has no top '{name}' (tops: {string.Join(", ", _assigned.Select(a => a.Name).Distinct())})");
        }
        set
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(value);
            _assigned.Add((name, value));
        }
    }

    /// <summary>Names every top of a multi-top layer at once: <c>n["data", "label"] = L.Data(..., ntop: 2)</c>.</summary>
    /// <exception cref="CremaException">The number of names differs from the layer's top count.</exception>
    public NetSpecTop this[string first, string second, params string[] more]
    {
        get => this[first];
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            string[] names = [first, second, .. more];
            var tops = value.Layer.Tops;
            if (tops.Count != names.Length)
            {
                throw new CremaException($"NetSpec: {names.Length} names ({string.Join(", ", names)}) for layer {value.Layer.Type}, which has {tops.Count} top(s) (set ntop)");
            }
            for (int i = 0; i < names.Length; i++)
            {
                this[names[i]] = tops[i];
            }
        }
    }

    /// <summary>Names assigned so far, in order (a name assigned twice appears twice).</summary>
    public IReadOnlyList<string> Names => _assigned.Select(a => a.Name).ToArray();

    /// <summary>The net: every layer reachable from the assigned tops, inputs first, in assignment order.</summary>
    public NetParameter ToProto()
    {
        var topNames = new Dictionary<NetSpecTop, string>();
        var layerNames = new Dictionary<NetSpecLayer, string>();
        foreach (var (name, top) in _assigned)
        {
            if (top.Index < 0)
            {
                layerNames[top.Layer] = name; // a layer without tops, named by its assignment
            }
            else
            {
                topNames[top] = name;
            }
        }
        var context = new NetSpecLayer.ProtoContext(topNames, layerNames);
        foreach (var (_, top) in _assigned)
        {
            top.Layer.AppendTo(context);
        }
        var net = new NetParameter();
        if (Name.Length > 0)
        {
            net.Name = Name;
        }
        net.Layer.AddRange(context.Layers);
        return net;
    }

    /// <summary>The net as prototxt text (Caffe's text format); it parses back to <see cref="ToProto"/>.</summary>
    public override string ToString() => PrototxtPrinter.Print(ToProto());
}

/// <summary>One top of a layer in a <see cref="NetSpec"/> (pycaffe's <c>Top</c>): pass it as a bottom to other layers.</summary>
public sealed class NetSpecTop
{
    internal NetSpecTop(NetSpecLayer layer, int index)
    {
        Layer = layer;
        Index = index;
    }

    /// <summary>The layer producing this top.</summary>
    public NetSpecLayer Layer { get; }

    /// <summary>Which of the layer's tops this is (-1 stands for a layer with no tops).</summary>
    public int Index { get; }

    /// <summary>The prototxt of the net that ends in this top (pycaffe's <c>top.to_proto()</c>).</summary>
    public NetParameter ToProto()
    {
        var context = new NetSpecLayer.ProtoContext([], []);
        Layer.AppendTo(context);
        var net = new NetParameter();
        net.Layer.AddRange(context.Layers);
        return net;
    }
}
