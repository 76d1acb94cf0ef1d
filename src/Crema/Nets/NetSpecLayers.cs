using System.Dynamic;

namespace Crema.Nets;

/// <summary>
/// pycaffe's <c>caffe.layers as L</c>: <c>L.AnyType(bottoms..., name: value, ...)</c> makes a <see cref="NetSpecLayer"/>
/// of that type and returns its first top (or the layer's stand-in when <c>ntop: 0</c>). Import with
/// <c>using static Crema.Nets.NetSpecLayers;</c>.
/// </summary>
public static class NetSpecLayers
{
    /// <summary>
    /// The layer factory. Positional arguments are bottoms (<see cref="NetSpecTop"/>s or sequences of them); named
    /// arguments become fields: <c>L.Convolution(n["data"], kernelSize: 5, numOutput: 20, weightFiller: new { type = "xavier" })</c>.
    /// Being <c>dynamic</c>, any layer type works, including your own.
    /// </summary>
    public static dynamic L { get; } = new LayerFactory();

    /// <summary>The non-dynamic form of <c>L.Type(...)</c>: arguments as a dictionary or an anonymous object's properties.</summary>
    public static NetSpecTop Layer(string type, IEnumerable<NetSpecTop> bottoms, object? arguments = null)
    {
        var pairs = arguments switch
        {
            null => [],
            IEnumerable<KeyValuePair<string, object?>> d => d.ToList(),
            _ => arguments.GetType().GetProperties().Select(p => new KeyValuePair<string, object?>(p.Name, p.GetValue(arguments))).ToList(),
        };
        return new NetSpecLayer(type, bottoms, pairs).FirstTop;
    }

    private sealed class LayerFactory : DynamicObject
    {
        public override bool TryInvokeMember(InvokeMemberBinder binder, object?[]? args, out object? result)
        {
            args ??= [];
            var names = binder.CallInfo.ArgumentNames;
            int positional = args.Length - names.Count;
            var bottoms = new List<NetSpecTop>();
            for (int i = 0; i < positional; i++)
            {
                switch (args[i])
                {
                    case NetSpecTop top:
                        bottoms.Add(top);
                        break;
                    case IEnumerable<NetSpecTop> many:
                        bottoms.AddRange(many);
                        break;
                    default:
                        throw new CremaException($"NetSpec: L.{binder.Name}: positional argument #{i} must be a top (a bottom of the layer), got {args[i]?.GetType().Name ?? "null"}; give parameters by name");
                }
            }
            var pairs = names.Select((n, i) => new KeyValuePair<string, object?>(n, args[positional + i])).ToList();
            result = new NetSpecLayer(binder.Name, bottoms, pairs).FirstTop;
            return true;
        }
    }
}
