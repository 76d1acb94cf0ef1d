namespace Crema.Drawing;

// Order within ranks of the layered layout: initial depth-first order, barycenter sweeps, crossing count.
public static partial class LayeredLayout
{
    // Depth-first from the sources, so that connected nodes start out close together.
    private static List<int> InitialOrder(int total, int n, List<List<int>> succ, List<List<int>> pred)
    {
        var seen = new bool[total];
        var order = new List<int>(total);
        var stack = new Stack<int>();
        for (int s = 0; s < total; s++)
        {
            if (seen[s] || (s < n && pred[s].Count > 0))
            {
                continue;
            }
            stack.Push(s);
            while (stack.Count > 0)
            {
                int v = stack.Pop();
                if (seen[v])
                {
                    continue;
                }
                seen[v] = true;
                order.Add(v);
                for (int k = succ[v].Count - 1; k >= 0; k--)
                {
                    if (!seen[succ[v][k]])
                    {
                        stack.Push(succ[v][k]);
                    }
                }
            }
        }
        for (int v = 0; v < total; v++)
        {
            if (!seen[v])
            {
                order.Add(v);
            }
        }
        return order;
    }

    // Barycenter sweeps down and up; the ordering with the fewest crossings seen wins.
    private static void Order(List<List<int>> layers, List<List<int>> succ, List<List<int>> pred)
    {
        var position = new double[succ.Count];
        void Index()
        {
            foreach (var layer in layers)
            {
                for (int i = 0; i < layer.Count; i++)
                {
                    position[layer[i]] = i;
                }
            }
        }
        Index();
        var best = layers.Select(l => l.ToList()).ToList();
        long bestCrossings = Crossings(layers, succ, position);
        for (int iteration = 0; iteration < 24 && bestCrossings > 0; iteration++)
        {
            bool down = iteration % 2 == 0;
            for (int k = 1; k < layers.Count; k++)
            {
                var layer = layers[down ? k : layers.Count - 1 - k];
                var neighbours = down ? pred : succ;
                var key = new Dictionary<int, double>();
                foreach (int v in layer)
                {
                    var adjacent = neighbours[v];
                    key[v] = adjacent.Count == 0 ? position[v] : adjacent.Average(w => position[w]);
                }
                // Stable: ties keep their current order.
                var sorted = layer.OrderBy(v => key[v]).ThenBy(v => position[v]).ToList();
                layer.Clear();
                layer.AddRange(sorted);
                for (int i = 0; i < layer.Count; i++)
                {
                    position[layer[i]] = i;
                }
            }
            long crossings = Crossings(layers, succ, position);
            if (crossings < bestCrossings)
            {
                bestCrossings = crossings;
                best = layers.Select(l => l.ToList()).ToList();
            }
        }
        for (int r = 0; r < layers.Count; r++)
        {
            layers[r] = best[r];
        }
    }

    internal static long Crossings(List<List<int>> layers, List<List<int>> succ, double[] position)
    {
        long crossings = 0;
        foreach (var layer in layers)
        {
            var pairs = new List<(double A, double B)>();
            foreach (int v in layer)
            {
                foreach (int w in succ[v])
                {
                    pairs.Add((position[v], position[w]));
                }
            }
            for (int i = 0; i < pairs.Count; i++)
            {
                for (int j = i + 1; j < pairs.Count; j++)
                {
                    if ((pairs[i].A - pairs[j].A) * (pairs[i].B - pairs[j].B) < 0)
                    {
                        crossings++;
                    }
                }
            }
        }
        return crossings;
    }
}
