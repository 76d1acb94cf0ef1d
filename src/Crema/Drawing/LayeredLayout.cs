namespace Crema.Drawing;

/// <summary>Graphviz's rankdir: the direction data flows in (top→bottom, left→right, bottom→top, right→left).</summary>
public enum RankDir
{
    TB,
    LR,
    BT,
    RL,
}

/// <summary>A node's box: top-left corner and size, in pixels.</summary>
public readonly record struct Box(double X, double Y, double Width, double Height)
{
    public double CenterX => X + Width / 2;

    public double CenterY => Y + Height / 2;

    public bool Overlaps(Box other) =>
        X < other.X + other.Width && other.X < X + Width && Y < other.Y + other.Height && other.Y < Y + Height;
}

/// <summary>A point of an edge's polyline.</summary>
public readonly record struct Point2(double X, double Y);

/// <summary>Where <see cref="LayeredLayout"/> put the nodes, and each edge's polyline (source boundary → target boundary).</summary>
public sealed record GraphLayout(IReadOnlyList<Box> Nodes, IReadOnlyList<IReadOnlyList<Point2>> Edges, double Width, double Height);

/// <summary>
/// A layered (Sugiyama-style) drawing of a directed graph: ranks by longest path, dummy nodes on edges that span
/// several ranks, barycenter sweeps that keep the ordering with the fewest crossings, and coordinates that pull each
/// node toward its neighbours while keeping the order and the gaps of its rank (isotonic regression, pool-adjacent-violators).
/// </summary>
public static class LayeredLayout
{
    private const double Margin = 16;

    /// <summary>Lays out nodes of the given sizes (width, height) joined by <paramref name="edges"/> (from, to).</summary>
    public static GraphLayout Compute(IReadOnlyList<(double Width, double Height)> sizes, IReadOnlyList<(int From, int To)> edges,
        RankDir rankDir, double rankGap = 36, double nodeGap = 18)
    {
        int n = sizes.Count;
        bool vertical = rankDir is RankDir.TB or RankDir.BT;
        // Work in "TB space": ranks go down the y axis, the order within a rank along x. `along` is a node's extent
        // in the rank direction, `across` its extent within a rank.
        var across = new List<double>(sizes.Select(s => vertical ? s.Width : s.Height));
        var along = new List<double>(sizes.Select(s => vertical ? s.Height : s.Width));

        // Cycles are broken by reversing the back edges of a depth-first search.
        bool[] back = BackEdges(n, edges);
        var forward = edges.Select((e, i) => back[i] ? (e.To, e.From) : (e.From, e.To)).ToList();
        int[] rank = Rank(n, forward);

        // Chains of dummy nodes, one per rank crossed, so that every edge joins adjacent ranks.
        var succ = new List<List<int>>();
        var pred = new List<List<int>>();
        for (int i = 0; i < n; i++)
        {
            succ.Add([]);
            pred.Add([]);
        }
        var ranks = rank.ToList();
        var chains = new List<List<int>>();
        foreach (var (from, to) in forward)
        {
            var chain = new List<int> { from };
            if (from != to)
            {
                for (int r = rank[from] + 1; r < rank[to]; r++)
                {
                    int dummy = across.Count;
                    across.Add(2);
                    along.Add(0);
                    ranks.Add(r);
                    succ.Add([]);
                    pred.Add([]);
                    chain.Add(dummy);
                }
                chain.Add(to);
                for (int k = 0; k + 1 < chain.Count; k++)
                {
                    succ[chain[k]].Add(chain[k + 1]);
                    pred[chain[k + 1]].Add(chain[k]);
                }
            }
            chains.Add(chain);
        }
        int total = across.Count;
        int rankCount = total == 0 ? 0 : ranks.Max() + 1;
        var layers = new List<List<int>>();
        for (int r = 0; r < rankCount; r++)
        {
            layers.Add([]);
        }
        foreach (int v in InitialOrder(total, n, succ, pred))
        {
            layers[ranks[v]].Add(v);
        }
        Order(layers, succ, pred);

        // Rank positions (TB space y): each rank as tall as its tallest node, nodes centred in it.
        var center = new double[total];
        var centerY = new double[total];
        double y = Margin;
        foreach (var layer in layers)
        {
            double height = layer.Count == 0 ? 0 : layer.Max(v => along[v]);
            foreach (int v in layer)
            {
                centerY[v] = y + height / 2;
            }
            y += height + rankGap;
        }
        double extentY = y - rankGap + Margin;
        Coordinates(layers, succ, pred, across, nodeGap, center);

        double minX = double.MaxValue, maxX = double.MinValue;
        for (int v = 0; v < total; v++)
        {
            minX = Math.Min(minX, center[v] - across[v] / 2);
            maxX = Math.Max(maxX, center[v] + across[v] / 2);
        }
        if (total == 0)
        {
            minX = maxX = 0;
        }
        double shift = Margin - minX;
        double extentX = maxX - minX + 2 * Margin;

        (double X, double Y) ToOutput(double x, double yy)
        {
            x += shift;
            return rankDir switch
            {
                RankDir.TB => (x, yy),
                RankDir.BT => (x, extentY - yy),
                RankDir.LR => (yy, x),
                _ => (extentY - yy, x),
            };
        }

        var boxes = new Box[n];
        for (int v = 0; v < n; v++)
        {
            var (cx, cy) = ToOutput(center[v], centerY[v]);
            boxes[v] = new Box(cx - sizes[v].Width / 2, cy - sizes[v].Height / 2, sizes[v].Width, sizes[v].Height);
        }
        var paths = new List<IReadOnlyList<Point2>>();
        for (int e = 0; e < edges.Count; e++)
        {
            var chain = chains[e];
            var points = chain.Select(v => ToOutput(center[v], centerY[v])).Select(p => new Point2(p.X, p.Y)).ToList();
            if (points.Count >= 2)
            {
                points[0] = Clip(boxes[chain[0]], points[1]);
                points[^1] = Clip(boxes[chain[^1]], points[^2]);
            }
            if (back[e])
            {
                points.Reverse();
            }
            paths.Add(points);
        }
        return vertical ? new GraphLayout(boxes, paths, extentX, extentY) : new GraphLayout(boxes, paths, extentY, extentX);
    }

    // Depth-first search from the sources (then from any node left, in index order); an edge to a node still on the
    // stack closes a cycle.
    internal static bool[] BackEdges(int n, IReadOnlyList<(int From, int To)> edges)
    {
        var outgoing = new List<(int To, int Edge)>[n];
        var hasIncoming = new bool[n];
        for (int i = 0; i < n; i++)
        {
            outgoing[i] = [];
        }
        for (int e = 0; e < edges.Count; e++)
        {
            outgoing[edges[e].From].Add((edges[e].To, e));
            hasIncoming[edges[e].To] = true;
        }
        var back = new bool[edges.Count];
        var state = new byte[n]; // 0 unseen, 1 on the stack, 2 done
        var stack = new Stack<(int Node, int Next)>();
        foreach (int start in Enumerable.Range(0, n).OrderBy(v => hasIncoming[v]))
        {
            if (state[start] != 0)
            {
                continue;
            }
            state[start] = 1;
            stack.Push((start, 0));
            while (stack.Count > 0)
            {
                var (v, next) = stack.Pop();
                if (next == outgoing[v].Count)
                {
                    state[v] = 2;
                    continue;
                }
                stack.Push((v, next + 1));
                var (w, edge) = outgoing[v][next];
                if (state[w] == 1)
                {
                    back[edge] = true;
                }
                else if (state[w] == 0)
                {
                    state[w] = 1;
                    stack.Push((w, 0));
                }
            }
        }
        return back;
    }

    // Longest path from the sources; then a source is pulled down next to its first consumer (a "label" input used
    // only by the loss would otherwise sit at rank 0 with one very long edge).
    private static int[] Rank(int n, List<(int From, int To)> edges)
    {
        var rank = new int[n];
        var outgoing = new List<int>[n];
        var incoming = new int[n];
        for (int i = 0; i < n; i++)
        {
            outgoing[i] = [];
        }
        foreach (var (from, to) in edges)
        {
            if (from != to)
            {
                outgoing[from].Add(to);
                incoming[to]++;
            }
        }
        // Kahn's algorithm: a node is ranked once all its predecessors are.
        var waiting = (int[])incoming.Clone();
        var ready = new Queue<int>(Enumerable.Range(0, n).Where(v => waiting[v] == 0));
        var topological = new List<int>(n);
        while (ready.Count > 0)
        {
            int v = ready.Dequeue();
            topological.Add(v);
            foreach (int w in outgoing[v])
            {
                rank[w] = Math.Max(rank[w], rank[v] + 1);
                if (--waiting[w] == 0)
                {
                    ready.Enqueue(w);
                }
            }
        }
        for (int k = topological.Count - 1; k >= 0; k--)
        {
            int v = topological[k];
            if (incoming[v] == 0 && outgoing[v].Count > 0)
            {
                rank[v] = outgoing[v].Min(w => rank[w]) - 1;
            }
        }
        return rank;
    }

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

    // Where the segment from the box's centre toward `toward` leaves the box.
    private static Point2 Clip(Box box, Point2 toward)
    {
        double cx = box.CenterX, cy = box.CenterY;
        double dx = toward.X - cx, dy = toward.Y - cy;
        if (dx == 0 && dy == 0)
        {
            return new Point2(cx, cy);
        }
        double tx = dx == 0 ? double.PositiveInfinity : box.Width / 2 / Math.Abs(dx);
        double ty = dy == 0 ? double.PositiveInfinity : box.Height / 2 / Math.Abs(dy);
        double t = Math.Min(1, Math.Min(tx, ty));
        return new Point2(cx + dx * t, cy + dy * t);
    }
}
