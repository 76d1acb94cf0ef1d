namespace Crema.Drawing;

// Ranks of the layered layout: cycles broken by reversing back edges, then longest-path ranking.
public static partial class LayeredLayout
{
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
}
