namespace Crema.Drawing;

// Coordinates within ranks of the layered layout: neighbour-pulling sweeps and the order-keeping placement.
public static partial class LayeredLayout
{
    // Positions within ranks: start packed, then sweep down and up pulling each node to the mean of its neighbours'
    // centres, subject to the rank's order and gaps.
    private static void Coordinates(List<List<int>> layers, List<List<int>> succ, List<List<int>> pred, List<double> across,
        double gap, double[] center)
    {
        foreach (var layer in layers)
        {
            double x = 0;
            foreach (int v in layer)
            {
                center[v] = x + across[v] / 2;
                x += across[v] + gap;
            }
        }
        for (int iteration = 0; iteration < 16; iteration++)
        {
            bool down = iteration % 2 == 0;
            bool both = iteration >= 12;
            for (int k = 0; k < layers.Count; k++)
            {
                var layer = layers[down ? k : layers.Count - 1 - k];
                var desired = new double[layer.Count];
                for (int i = 0; i < layer.Count; i++)
                {
                    int v = layer[i];
                    IEnumerable<int> neighbours = both ? pred[v].Concat(succ[v]) : down ? pred[v] : succ[v];
                    var list = neighbours.ToList();
                    desired[i] = list.Count == 0 ? center[v] : list.Average(w => center[w]);
                }
                var placed = Place(layer.Select(v => across[v]).ToArray(), desired, gap);
                for (int i = 0; i < layer.Count; i++)
                {
                    center[layer[i]] = placed[i];
                }
            }
        }
    }

    /// <summary>
    /// The centres closest (least squares) to <paramref name="desired"/> that keep the order and leave
    /// <paramref name="gap"/> between neighbours: with y_i = x_i − (offset of i when packed) the constraints become
    /// y_i ≥ y_{i−1}, an isotonic regression solved by pool-adjacent-violators.
    /// </summary>
    internal static double[] Place(double[] widths, double[] desired, double gap)
    {
        int count = widths.Length;
        var offset = new double[count];
        for (int i = 1; i < count; i++)
        {
            offset[i] = offset[i - 1] + (widths[i - 1] + widths[i]) / 2 + gap;
        }
        var blockValue = new List<double>();
        var blockSize = new List<int>();
        for (int i = 0; i < count; i++)
        {
            blockValue.Add(desired[i] - offset[i]);
            blockSize.Add(1);
            while (blockValue.Count > 1 && blockValue[^2] > blockValue[^1])
            {
                int a = blockSize[^2], b = blockSize[^1];
                double merged = (blockValue[^2] * a + blockValue[^1] * b) / (a + b);
                blockValue.RemoveAt(blockValue.Count - 1);
                blockSize.RemoveAt(blockSize.Count - 1);
                blockValue[^1] = merged;
                blockSize[^1] = a + b;
            }
        }
        var result = new double[count];
        int index = 0;
        for (int blk = 0; blk < blockValue.Count; blk++)
        {
            for (int j = 0; j < blockSize[blk]; j++, index++)
            {
                result[index] = blockValue[blk] + offset[index];
            }
        }
        return result;
    }
}
