namespace Crema.Layers;

/// <summary>"did you mean 'ReLU'?" for a mistyped layer type: the known type nearest in edit distance.</summary>
internal static class TypeSuggestion
{
    /// <summary>" — did you mean 'X'?" (with a leading separator) or "" when no known type is close.</summary>
    public static string DidYouMean(string type, IEnumerable<string> known)
    {
        string? best = Nearest(type, known);
        return best == null ? "" : $" — did you mean '{best}'?";
    }

    /// <summary>
    /// The known name equal ignoring case, else the one within max(1, length/3) edits (insert, delete, substitute,
    /// swap two neighbours; case ignored) with the fewest edits; null when none is that close.
    /// </summary>
    public static string? Nearest(string type, IEnumerable<string> known)
    {
        var names = known.ToList();
        string? same = names.FirstOrDefault(n => string.Equals(n, type, StringComparison.OrdinalIgnoreCase));
        if (same != null)
        {
            return same;
        }
        int limit = Math.Max(1, type.Length / 3);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string name in names)
        {
            int d = Distance(type.ToUpperInvariant(), name.ToUpperInvariant());
            if (d <= limit && d < bestDistance)
            {
                best = name;
                bestDistance = d;
            }
        }
        return best;
    }

    // Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
