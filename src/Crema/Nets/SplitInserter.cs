using Crema.Proto;

namespace Crema.Nets;

/// <summary>
/// Caffe's insert_splits: when one top feeds several bottoms (or feeds a bottom and is also a loss), a Split layer
/// gives each consumer its own copy so their gradients are summed instead of overwritten.
/// </summary>
public static class SplitInserter
{
    public static NetParameter Insert(NetParameter net)
    {
        // (layer index, top index) of the latest producer of each blob name, and how many bottoms read each production.
        var producer = new Dictionary<string, (int Layer, int Top)>(StringComparer.Ordinal);
        var readers = new Dictionary<(int Layer, int Top), int>();
        var lossWeights = new Dictionary<(int Layer, int Top), float>();
        var bottomSource = new Dictionary<(int Layer, int Bottom), (int Layer, int Top)>();
        for (int i = 0; i < net.Layer.Count; i++)
        {
            var layer = net.Layer[i];
            for (int b = 0; b < layer.Bottom.Count; b++)
            {
                if (!producer.TryGetValue(layer.Bottom[b], out var source))
                {
                    throw new CremaException($"Layer '{layer.Name}' (type {layer.Type}): unknown bottom blob '{layer.Bottom[b]}' (bottom #{b}); no earlier layer produces it");
                }
                bottomSource[(i, b)] = source;
                readers[source] = readers.GetValueOrDefault(source) + 1;
            }
            for (int t = 0; t < layer.Top.Count; t++)
            {
                producer[layer.Top[t]] = (i, t);
                if (t < layer.LossWeight.Count && layer.LossWeight[t] != 0)
                {
                    lossWeights[(i, t)] = layer.LossWeight[t];
                }
            }
        }

        var result = net.Clone();
        result.Layer.Clear();
        // Consumers take split tops in order; when the blob is also a loss, split top 0 carries the loss (as Caffe).
        var splitUse = new Dictionary<(int Layer, int Top), int>();
        for (int i = 0; i < net.Layer.Count; i++)
        {
            var layer = net.Layer[i].Clone();
            for (int b = 0; b < layer.Bottom.Count; b++)
            {
                var source = bottomSource[(i, b)];
                bool isLoss = lossWeights.ContainsKey(source);
                if (readers[source] + (isLoss ? 1 : 0) > 1)
                {
                    int use = splitUse.GetValueOrDefault(source, isLoss ? 1 : 0);
                    splitUse[source] = use + 1;
                    layer.Bottom[b] = SplitTopName(net.Layer[source.Layer], source.Top, use);
                }
            }
            result.Layer.Add(layer);
            var splits = new List<LayerParameter>();
            for (int t = 0; t < layer.Top.Count; t++)
            {
                var key = (i, t);
                bool isLoss = lossWeights.TryGetValue(key, out float weight);
                int count = readers.GetValueOrDefault(key) + (isLoss ? 1 : 0);
                if (count <= 1)
                {
                    continue;
                }
                var split = new LayerParameter { Name = SplitLayerName(layer, t), Type = "Split" };
                split.Bottom.Add(layer.Top[t]);
                for (int k = 0; k < count; k++)
                {
                    split.Top.Add(SplitTopName(layer, t, k));
                    if (isLoss)
                    {
                        split.LossWeight.Add(k == 0 ? weight : 0f);
                    }
                }
                if (isLoss)
                {
                    // NOTE: explicit zeros rather than Caffe's clear_loss_weight, so a loss layer's default weight of 1 cannot count the loss twice.
                    for (int w = 0; w < layer.LossWeight.Count; w++)
                    {
                        layer.LossWeight[w] = 0;
                    }
                }
                splits.Add(split);
            }
            result.Layer.AddRange(splits);
        }
        return result;
    }

    private static string SplitLayerName(LayerParameter layer, int top) => $"{layer.Top[top]}_{layer.Name}_{top}_split";

    private static string SplitTopName(LayerParameter layer, int top, int index) => $"{layer.Top[top]}_{layer.Name}_{top}_split_{index}";
}
