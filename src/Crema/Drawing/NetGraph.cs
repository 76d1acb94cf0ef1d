using System.Globalization;
using Crema.Nets;
using Crema.Proto;

namespace Crema.Drawing;

/// <summary>What a node of a drawn net stands for (Caffe's draw.py styles).</summary>
public enum GraphNodeKind
{
    /// <summary>A layer: a box, coloured by type.</summary>
    Layer,

    /// <summary>An in-place layer (top = bottom, e.g. ReLU): a light green box chained after the blob's producer.</summary>
    InPlaceLayer,

    /// <summary>A blob: a grey octagon.</summary>
    Blob,
}

/// <summary>One node: its label lines (first is the name) and fill colour (#RRGGBB).</summary>
public sealed record GraphNode(int Id, GraphNodeKind Kind, string Name, string? LayerType, IReadOnlyList<string> Lines, string Fill);

/// <summary>A data-flow edge from node <see cref="From"/> to node <see cref="To"/>.</summary>
public readonly record struct GraphEdge(int From, int To);

/// <summary>Netscope's numbers for one layer: the shapes of its tops, its learnable parameter count and forward FLOPs.</summary>
public sealed record LayerStats(IReadOnlyList<int[]> TopShapes, long ParamCount, double Flops);

/// <summary>
/// The graph Caffe's draw_net draws: layers as boxes, blobs as octagons, edges bottom blob → layer → top blob. An
/// in-place layer is chained after the node that last wrote its blob (no second octagon), so the graph stays acyclic.
/// </summary>
public sealed class NetGraph
{
    // Caffe's draw.py colours.
    internal const string ConvolutionFill = "#FF5050";
    internal const string PoolingFill = "#FF9900";
    internal const string InnerProductFill = "#CC33FF";
    internal const string LayerFill = "#6495ED";
    internal const string NeuronFill = "#90EE90";
    internal const string BlobFill = "#E0E0E0";

    private NetGraph(string name, List<GraphNode> nodes, List<GraphEdge> edges, long totalParams, double totalFlops)
    {
        Name = name;
        Nodes = nodes;
        Edges = edges;
        TotalParams = totalParams;
        TotalFlops = totalFlops;
    }

    public string Name { get; }

    public IReadOnlyList<GraphNode> Nodes { get; }

    public IReadOnlyList<GraphEdge> Edges { get; }

    /// <summary>Sum of the learnable parameters of the drawn layers with known statistics.</summary>
    public long TotalParams { get; }

    /// <summary>Sum of the forward FLOPs of the drawn layers with known statistics.</summary>
    public double TotalFlops { get; }

    /// <summary>
    /// Builds the graph of the layers of <paramref name="net"/> in <paramref name="phase"/> (null: every layer, as
    /// draw_net's ALL). <paramref name="stats"/>, by layer name, adds shapes, parameter counts and FLOPs to the labels.
    /// </summary>
    public static NetGraph Build(NetParameter net, Phase? phase, IReadOnlyDictionary<string, LayerStats>? stats = null)
    {
        var layers = phase is { } p ? NetStateRules.Filter(net, Net.MakeState(p)).Layer : net.Layer;
        var nodes = new List<GraphNode>();
        var edges = new List<GraphEdge>();
        var blobNodes = new Dictionary<string, int>(StringComparer.Ordinal);
        // The node data of a blob currently comes from: its octagon, or the last in-place layer that rewrote it.
        var current = new Dictionary<string, int>(StringComparer.Ordinal);
        long totalParams = 0;
        double totalFlops = 0;
        foreach (var layer in layers)
        {
            bool inPlace = layer.Top.Count > 0 && layer.Top.All(t => layer.Bottom.Contains(t));
            LayerStats? s = null;
            stats?.TryGetValue(layer.Name, out s);
            if (s != null)
            {
                totalParams += s.ParamCount;
                totalFlops += s.Flops;
            }
            int id = nodes.Count;
            nodes.Add(new GraphNode(id, inPlace ? GraphNodeKind.InPlaceLayer : GraphNodeKind.Layer, layer.Name, layer.Type,
                LayerLines(layer, s), inPlace ? NeuronFill : FillOf(layer.Type)));
            foreach (string bottom in layer.Bottom.Distinct(StringComparer.Ordinal))
            {
                edges.Add(new GraphEdge(current.TryGetValue(bottom, out int from) ? from : BlobNode(bottom), id));
            }
            foreach (string top in layer.Top)
            {
                if (layer.Bottom.Contains(top))
                {
                    current[top] = id;
                    continue;
                }
                int blob = BlobNode(top);
                edges.Add(new GraphEdge(id, blob));
                current[top] = blob;
            }
        }
        return new NetGraph(net.Name, nodes, edges.Distinct().ToList(), totalParams, totalFlops);

        int BlobNode(string name)
        {
            if (!blobNodes.TryGetValue(name, out int id))
            {
                id = nodes.Count;
                nodes.Add(new GraphNode(id, GraphNodeKind.Blob, name, null, [name], BlobFill));
                blobNodes[name] = id;
            }
            return id;
        }
    }

    internal static string FillOf(string type) => type switch
    {
        "Convolution" or "Deconvolution" => ConvolutionFill,
        "Pooling" => PoolingFill,
        "InnerProduct" => InnerProductFill,
        _ => LayerFill,
    };

    // Caffe's label (name, type, kernel/stride/pad) plus Netscope's output shape, parameter count and FLOPs.
    private static List<string> LayerLines(LayerParameter layer, LayerStats? stats)
    {
        var lines = new List<string> { layer.Name };
        if (layer.Type == "Pooling" && layer.PoolingParam is { } pool)
        {
            lines.Add($"({layer.Type} {pool.Pool.ToString().ToUpperInvariant()})");
            if (pool.GlobalPooling)
            {
                lines.Add("global");
            }
            else
            {
                uint kh = pool.HasKernelH ? pool.KernelH : pool.KernelSize, kw = pool.HasKernelW ? pool.KernelW : pool.KernelSize;
                uint sh = pool.HasStrideH ? pool.StrideH : pool.Stride, sw = pool.HasStrideW ? pool.StrideW : pool.Stride;
                uint ph = pool.HasPadH ? pool.PadH : pool.Pad, pw = pool.HasPadW ? pool.PadW : pool.Pad;
                lines.Add($"kernel {Pair(kh, kw)}, stride {Pair(sh, sw)}, pad {Pair(ph, pw)}");
            }
        }
        else
        {
            lines.Add($"({layer.Type})");
            if (layer.Type is "Convolution" or "Deconvolution" && layer.ConvolutionParam is { } conv)
            {
                string kernel = conv.HasKernelH ? Pair(conv.KernelH, conv.KernelW) : Spatial(conv.KernelSize, 0);
                string stride = conv.HasStrideH ? Pair(conv.StrideH, conv.StrideW) : Spatial(conv.Stride, 1);
                string pad = conv.HasPadH ? Pair(conv.PadH, conv.PadW) : Spatial(conv.Pad, 0);
                lines.Add($"kernel {kernel}, stride {stride}, pad {pad}");
            }
        }
        if (stats != null)
        {
            foreach (var shape in stats.TopShapes)
            {
                lines.Add("out " + string.Join("×", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))));
            }
            var cost = new List<string>();
            if (stats.ParamCount > 0)
            {
                cost.Add($"params {Si(stats.ParamCount)}");
            }
            if (stats.Flops > 0)
            {
                cost.Add($"FLOPs {Si(stats.Flops)}");
            }
            if (cost.Count > 0)
            {
                lines.Add(string.Join(", ", cost));
            }
        }
        return lines;
    }

    private static string Pair(uint h, uint w) => h == w ? h.ToString(CultureInfo.InvariantCulture) : $"{h}×{w}";

    private static string Spatial(IReadOnlyList<uint> values, uint fallback) => values.Count switch
    {
        0 => fallback.ToString(CultureInfo.InvariantCulture),
        1 => values[0].ToString(CultureInfo.InvariantCulture),
        _ => string.Join("×", values.Select(v => v.ToString(CultureInfo.InvariantCulture))),
    };

    /// <summary>A count with an SI suffix and 3 significant digits: 431080 → "431K", 2.3e9 → "2.30G".</summary>
    public static string Si(double value)
    {
        string[] suffixes = ["", "K", "M", "G", "T", "P"];
        int i = 0;
        while (Math.Abs(value) >= 999.5 && i < suffixes.Length - 1)
        {
            value /= 1000;
            i++;
        }
        string digits = i == 0 ? value.ToString("0", CultureInfo.InvariantCulture)
            : Math.Abs(value) >= 99.95 ? value.ToString("0", CultureInfo.InvariantCulture)
            : Math.Abs(value) >= 9.995 ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : value.ToString("0.00", CultureInfo.InvariantCulture);
        return digits + suffixes[i];
    }
}
