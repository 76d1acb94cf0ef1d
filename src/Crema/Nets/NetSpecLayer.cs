using System.Collections;
using System.Globalization;
using System.Text;
using Crema.Proto;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Crema.Nets;

/// <summary>
/// A layer in a <see cref="NetSpec"/> (pycaffe's <c>Function</c>): its type, bottoms and the named arguments that
/// become fields of its <c>*_param</c> message or of <see cref="LayerParameter"/> itself.
/// </summary>
public sealed class NetSpecLayer
{
    // LayerParameter's "*_param" fields by layer type: ConvolutionParameter → convolution_param (pycaffe's param_name_dict).
    private static readonly Dictionary<string, FieldDescriptor> ParamFields = LayerParameter.Descriptor.Fields.InDeclarationOrder()
        .Where(f => f.FieldType == FieldType.Message && f.Name.EndsWith("_param", StringComparison.Ordinal)
            && f.MessageType.Name.EndsWith("Parameter", StringComparison.Ordinal))
        .GroupBy(f => f.MessageType.Name[..^"Parameter".Length], StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    private readonly List<NetSpecTop> _tops = [];

    /// <summary>
    /// A layer of <paramref name="type"/> over <paramref name="bottoms"/>. <paramref name="arguments"/> in order: names in
    /// camelCase or snake_case; <c>ntop</c> (number of tops, default 1) and <c>inPlace</c> are NetSpec's own.
    /// </summary>
    public NetSpecLayer(string type, IEnumerable<NetSpecTop> bottoms, IEnumerable<KeyValuePair<string, object?>> arguments)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(bottoms);
        ArgumentNullException.ThrowIfNull(arguments);
        Type = type;
        Bottoms = bottoms.ToArray();
        int ntop = 1;
        var rest = new List<KeyValuePair<string, object?>>();
        foreach (var (key, value) in arguments)
        {
            switch (SnakeCase(key))
            {
                case "ntop":
                    ntop = Convert.ToInt32(value, CultureInfo.InvariantCulture);
                    break;
                case "in_place":
                    InPlace = Convert.ToBoolean(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    rest.Add(new(key, value));
                    break;
            }
        }
        if (ntop < 0)
        {
            throw new CremaException($"NetSpec: layer {type}: ntop {ntop} must not be negative");
        }
        Arguments = rest;
        for (int i = 0; i < ntop; i++)
        {
            _tops.Add(new NetSpecTop(this, i));
        }
    }

    /// <summary>The layer type, as registered ("Convolution", "ReLU", or your own).</summary>
    public string Type { get; }

    /// <summary>The tops this layer reads, in order.</summary>
    public IReadOnlyList<NetSpecTop> Bottoms { get; }

    /// <summary>The layer's tops (<c>ntop</c> of them).</summary>
    public IReadOnlyList<NetSpecTop> Tops => _tops;

    /// <summary>Whether the layer writes into its bottoms (its tops are named after them).</summary>
    public bool InPlace { get; }

    /// <summary>The named arguments other than ntop and inPlace, in the order given.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Arguments { get; }

    /// <summary>What a layer call returns: its first top, or for a layer with no tops a stand-in of index -1.</summary>
    public NetSpecTop FirstTop => _tops.Count > 0 ? _tops[0] : new NetSpecTop(this, -1);

    internal sealed class ProtoContext(Dictionary<NetSpecTop, string> topNames, Dictionary<NetSpecLayer, string> layerNames)
    {
        public Dictionary<NetSpecTop, string> TopNames { get; } = topNames;

        public Dictionary<NetSpecLayer, string> LayerNames { get; } = layerNames;

        public Dictionary<string, int> AutoNames { get; } = new(StringComparer.Ordinal);

        public Dictionary<NetSpecLayer, LayerParameter> Emitted { get; } = [];

        public List<LayerParameter> Layers { get; } = [];

        public string Auto(string type)
        {
            int n = AutoNames.GetValueOrDefault(type) + 1;
            AutoNames[type] = n;
            return type + n.ToString(CultureInfo.InvariantCulture);
        }
    }

    internal void AppendTo(ProtoContext context)
    {
        if (context.Emitted.ContainsKey(this))
        {
            return;
        }
        var layer = new LayerParameter { Type = Type };
        foreach (var bottom in Bottoms)
        {
            bottom.Layer.AppendTo(context);
            var producer = context.Emitted[bottom.Layer];
            if (bottom.Index < 0 || bottom.Index >= producer.Top.Count)
            {
                throw new CremaException($"NetSpec: layer {Type} takes a bottom from layer '{producer.Name}' ({producer.Type}), which has no top #{bottom.Index}");
            }
            layer.Bottom.Add(producer.Top[bottom.Index]);
        }
        if (InPlace)
        {
            layer.Top.AddRange(layer.Bottom);
        }
        else
        {
            foreach (var top in _tops)
            {
                layer.Top.Add(TopName(top, context));
            }
        }
        layer.Name = _tops.Count > 0 ? TopName(_tops[0], context) : LayerName(context);
        foreach (var (key, value) in Arguments)
        {
            Assign(layer, key, value);
        }
        context.Emitted[this] = layer;
        context.Layers.Add(layer);
    }

    private static string TopName(NetSpecTop top, ProtoContext context)
    {
        if (!context.TopNames.TryGetValue(top, out string? name))
        {
            name = context.Auto(top.Layer.Type);
            context.TopNames[top] = name;
        }
        return name;
    }

    private string LayerName(ProtoContext context)
    {
        if (!context.LayerNames.TryGetValue(this, out string? name))
        {
            name = context.Auto(Type);
            context.LayerNames[this] = name;
        }
        return name;
    }

    // As pycaffe: "*_param" keys go to the layer; others to this type's *_param message when it has the field, else to
    // LayerParameter (name, loss_weight, include, param, propagate_down, …).
    private void Assign(LayerParameter layer, string key, object? value)
    {
        string field = SnakeCase(key);
        if (!field.EndsWith("_param", StringComparison.Ordinal) && ParamFields.TryGetValue(Type, out var paramField)
            && paramField.MessageType.FindFieldByName(field) != null)
        {
            ProtoAssign.Set(SubMessage(layer, paramField), field, value, $"layer {Type} ({paramField.Name})");
            return;
        }
        if (LayerParameter.Descriptor.FindFieldByName(field) == null)
        {
            string where = ParamFields.TryGetValue(Type, out var pf) ? $"a field of {pf.Name} ({pf.MessageType.Name}) nor " : "";
            throw new CremaException($"NetSpec: layer {Type}: unknown argument '{key}' ({field}): neither {where}a field of LayerParameter");
        }
        ProtoAssign.Set(layer, field, value, $"layer {Type}");
    }

    internal static IMessage SubMessage(IMessage parent, FieldDescriptor field)
    {
        if (field.Accessor.GetValue(parent) is IMessage existing)
        {
            return existing;
        }
        var created = field.MessageType.Parser.ParseFrom(ByteString.Empty);
        field.Accessor.SetValue(parent, created);
        return created;
    }

    /// <summary>kernelSize → kernel_size, hdf5DataParam → hdf5_data_param; snake_case stays.</summary>
    public static string SnakeCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var sb = new StringBuilder(name.Length + 4);
        foreach (char ch in name)
        {
            if (char.IsUpper(ch))
            {
                if (sb.Length > 0 && sb[^1] != '_')
                {
                    sb.Append('_');
                }
                sb.Append(char.ToLowerInvariant(ch));
            }
            else
            {
                sb.Append(ch);
            }
        }
        return sb.ToString();
    }
}

/// <summary>Sets protobuf fields from C# values by name, as pycaffe's <c>assign_proto</c>.</summary>
internal static class ProtoAssign
{
    /// <summary>
    /// Sets <paramref name="fieldName"/> of <paramref name="message"/>: a repeated field takes one value or a sequence;
    /// a message field takes a message of its type, an anonymous object or a dictionary (fields by name, recursively);
    /// an enum takes the generated enum, its proto name ("MAX", "TRAIN") or its number.
    /// </summary>
    public static void Set(IMessage message, string fieldName, object? value, string where)
    {
        var field = message.Descriptor.FindFieldByName(fieldName)
            ?? throw new CremaException($"NetSpec: {where}: {message.Descriptor.Name} has no field '{fieldName}' (fields: {string.Join(", ", message.Descriptor.Fields.InDeclarationOrder().Select(f => f.Name))})");
        where = $"{where}: {field.Name}";
        if (value == null)
        {
            throw new CremaException($"NetSpec: {where}: null value");
        }
        if (field.IsRepeated)
        {
            var list = (IList)field.Accessor.GetValue(message);
            IEnumerable items = value is IEnumerable e && value is not string && value is not IMessage && !IsDictionary(value) ? e : new[] { value };
            foreach (object? item in items)
            {
                if (field.FieldType == FieldType.Message)
                {
                    var created = field.MessageType.Parser.ParseFrom(ByteString.Empty);
                    Fill(created, item, where);
                    list.Add(created);
                }
                else
                {
                    list.Add(Scalar(field, item, where));
                }
            }
            return;
        }
        if (field.FieldType == FieldType.Message)
        {
            Fill(NetSpecLayer.SubMessage(message, field), value, where);
            return;
        }
        field.Accessor.SetValue(message, Scalar(field, value, where));
    }

    private static bool IsDictionary(object value) => value is IDictionary || value is IEnumerable<KeyValuePair<string, object?>>;

    // A message from a message of the same type (merged), a dictionary, or an object's public properties.
    private static void Fill(IMessage target, object? value, string where)
    {
        switch (value)
        {
            case null:
                throw new CremaException($"NetSpec: {where}: null value");
            case IMessage m when m.Descriptor == target.Descriptor:
                target.MergeFrom(m.ToByteString());
                return;
            case IMessage m:
                throw new CremaException($"NetSpec: {where}: expects a {target.Descriptor.Name}, got a {m.Descriptor.Name}");
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                foreach (var (k, v) in pairs)
                {
                    Set(target, NetSpecLayer.SnakeCase(k), v, where);
                }
                return;
            case IDictionary dict:
                foreach (DictionaryEntry entry in dict)
                {
                    Set(target, NetSpecLayer.SnakeCase(Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!), entry.Value, where);
                }
                return;
            case string or ValueType:
                throw new CremaException($"NetSpec: {where}: expects a {target.Descriptor.Name} (a message, an anonymous object or a dictionary), got '{value}'");
            default:
                foreach (var property in value.GetType().GetProperties())
                {
                    Set(target, NetSpecLayer.SnakeCase(property.Name), property.GetValue(value), where);
                }
                return;
        }
    }

    private static object Scalar(FieldDescriptor field, object? value, string where)
    {
        if (value == null)
        {
            throw new CremaException($"NetSpec: {where}: null value");
        }
        try
        {
            return field.FieldType switch
            {
                FieldType.Enum => EnumValue(field, value, where),
                FieldType.String => value as string ?? throw new CremaException($"NetSpec: {where}: expects a string, got '{value}'"),
                FieldType.Bytes => value is byte[] b ? ByteString.CopyFrom(b) : throw new CremaException($"NetSpec: {where}: expects bytes"),
                FieldType.Bool => Convert.ToBoolean(value, CultureInfo.InvariantCulture),
                FieldType.Float => Convert.ToSingle(value, CultureInfo.InvariantCulture),
                FieldType.Double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
                FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Convert.ToInt32(value, CultureInfo.InvariantCulture),
                FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                FieldType.UInt32 or FieldType.Fixed32 => Convert.ToUInt32(value, CultureInfo.InvariantCulture),
                FieldType.UInt64 or FieldType.Fixed64 => Convert.ToUInt64(value, CultureInfo.InvariantCulture),
                _ => throw new CremaException($"NetSpec: {where}: unsupported field type {field.FieldType}"),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new CremaException($"NetSpec: {where}: cannot use '{value}' ({value.GetType().Name}) as {field.FieldType}: {e.Message}", e);
        }
    }

    private static object EnumValue(FieldDescriptor field, object value, string where)
    {
        var type = field.EnumType;
        int number;
        if (value is string s)
        {
            // The proto name (MAX), or the generated C# name (Max) matched without case and underscores.
            var match = type.FindValueByName(s) ?? type.Values.FirstOrDefault(v =>
                string.Equals(v.Name.Replace("_", "", StringComparison.Ordinal), s.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
            number = match?.Number ?? throw new CremaException($"NetSpec: {where}: '{s}' is not a {type.Name} (values: {string.Join(", ", type.Values.Select(v => v.Name))})");
        }
        else if (value is Enum e)
        {
            if (e.GetType() != type.ClrType)
            {
                throw new CremaException($"NetSpec: {where}: expects a {type.Name}, got {e.GetType().Name}.{e}");
            }
            number = Convert.ToInt32(e, CultureInfo.InvariantCulture);
        }
        else
        {
            number = Convert.ToInt32(value, CultureInfo.InvariantCulture);
            if (type.FindValueByNumber(number) == null)
            {
                throw new CremaException($"NetSpec: {where}: {number} is not a {type.Name} value");
            }
        }
        return Enum.ToObject(type.ClrType, number);
    }
}
