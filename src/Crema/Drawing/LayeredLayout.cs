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
public static partial class LayeredLayout
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
