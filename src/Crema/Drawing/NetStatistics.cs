using Crema.Layers;
using Crema.Nets;
using Crema.Proto;

namespace Crema.Drawing;

/// <summary>Netscope-style per-layer numbers (top shapes, parameter counts, forward FLOPs) read off a built <see cref="Net"/>.</summary>
public static class NetStatistics
{
    /// <summary>The statistics of every layer of <paramref name="net"/>, by layer name (Split layers Crema inserted excluded).</summary>
    public static Dictionary<string, LayerStats> Of(Net net)
    {
        var result = new Dictionary<string, LayerStats>(StringComparer.Ordinal);
        for (int i = 0; i < net.Layers.Count; i++)
        {
            var layer = net.Layers[i];
            var shapes = net.TopsOf(i).Select(t => t.Shape.ToArray()).ToArray();
            long parameters = layer.Blobs.Sum(b => (long)b.Count);
            result.TryAdd(layer.Name, new LayerStats(shapes, parameters, ForwardFlops(layer, net.BottomsOf(i), net.TopsOf(i))));
        }
        return result;
    }

    /// <summary>
    /// Builds the net of <paramref name="phase"/> quietly and returns its statistics, or null with the reason when it
    /// cannot be built (e.g. a Data layer whose database is not there).
    /// </summary>
    public static Dictionary<string, LayerStats>? TryCollect(NetParameter param, Phase phase, string? baseDirectory, out string? error)
    {
        error = null;
        var quiet = new List<string>();
        try
        {
            using (Log.Capture(quiet))
            {
                using var net = new Net(param, phase, baseDirectory);
                return Of(net);
            }
        }
        catch (Exception e) when (e is CremaException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or FormatException or NotSupportedException)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>
    /// Forward FLOPs: 2 per multiply-add of Convolution, Deconvolution and InnerProduct (as `crema time` counts), one
    /// per window element of Pooling, one per summed element of Eltwise; other layers count 0.
    /// </summary>
    public static double ForwardFlops(Layer layer, IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = layer.Param;
        switch (layer.Type)
        {
            case "Convolution" or "Deconvolution" when layer.Blobs.Count > 0 && bottom.Count > 0:
            {
                // Every weight meets every output position (Convolution) or every input position (Deconvolution).
                double flops = 0;
                for (int b = 0; b < bottom.Count; b++)
                {
                    var side = layer.Type == "Convolution" ? top[b] : bottom[b];
                    int axis = side.CanonicalAxis(p.ConvolutionParam?.Axis ?? 1);
                    flops += 2.0 * layer.Blobs[0].Count * side.CountRange(0, axis) * side.CountFrom(axis + 1);
                }
                return flops;
            }
            case "InnerProduct" when layer.Blobs.Count > 0 && bottom.Count > 0:
            {
                int axis = bottom[0].CanonicalAxis(p.InnerProductParam?.Axis ?? 1);
                return 2.0 * layer.Blobs[0].Count * bottom[0].CountRange(0, axis);
            }
            case "Pooling" when top.Count > 0 && bottom.Count > 0 && bottom[0].NumAxes == 4:
            {
                var pool = p.PoolingParam ?? new PoolingParameter();
                double window = pool.GlobalPooling ? (double)bottom[0].Height * bottom[0].Width
                    : (double)(pool.HasKernelH ? pool.KernelH : pool.KernelSize) * (pool.HasKernelW ? pool.KernelW : pool.KernelSize);
                return window * top[0].Count;
            }
            case "Eltwise" when top.Count > 0:
                return (double)(bottom.Count - 1) * top[0].Count;
            default:
                return 0;
        }
    }
}
