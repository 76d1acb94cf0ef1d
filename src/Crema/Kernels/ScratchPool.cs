namespace Crema.Kernels;

/// <summary>
/// Scratch arrays shared by every layer of every net in the process, for buffers that live only while one layer runs
/// (im2col columns, per-thread gradient accumulators). Layers run one after another, so the pool holds what the busiest
/// layer needs at once instead of every layer keeping its own (Caffe keeps one column buffer per convolution layer).
/// After the first pass over a net, renting allocates nothing. Thread-safe; contents are not cleared.
/// </summary>
public static class ScratchPool
{
    private static readonly List<float[]> s_free = [];
    private static readonly Lock s_lock = new();

    /// <summary>An array of at least <paramref name="minLength"/> floats (its previous contents are arbitrary).</summary>
    public static float[] Rent(int minLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minLength);
        lock (s_lock)
        {
            // The smallest free array that fits; otherwise replace the largest free one, so the pool does not keep
            // arrays that are too small for the nets in use.
            int best = -1, largest = -1;
            for (int i = 0; i < s_free.Count; i++)
            {
                int length = s_free[i].Length;
                if (length >= minLength && (best < 0 || length < s_free[best].Length))
                {
                    best = i;
                }
                if (largest < 0 || length > s_free[largest].Length)
                {
                    largest = i;
                }
            }
            if (best >= 0)
            {
                return Take(best);
            }
            if (largest >= 0)
            {
                Take(largest);
            }
        }
        return new float[minLength];
    }

    /// <summary>Gives back an array from <see cref="Rent"/>; the caller must not use it afterwards.</summary>
    public static void Return(float[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        lock (s_lock)
        {
            s_free.Add(array);
        }
    }

    private static float[] Take(int index)
    {
        var array = s_free[index];
        s_free[index] = s_free[^1];
        s_free.RemoveAt(s_free.Count - 1);
        return array;
    }
}
