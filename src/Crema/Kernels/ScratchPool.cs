namespace Crema.Kernels;

/// <summary>
/// Scratch arrays shared by every layer of every net in the process, for buffers that live only while one layer runs
/// (im2col columns, per-thread gradient accumulators). Layers run one after another, so the pool holds what the busiest
/// layer needs at once instead of every layer keeping its own (Caffe keeps one column buffer per convolution layer).
/// After the first pass over a net, renting allocates nothing. Thread-safe; contents are not cleared.
/// </summary>
internal sealed class ScratchPool
{
    private readonly List<float[]> _free = [];
    private readonly Lock _lock = new();

    /// <summary>The pool the layers use.</summary>
    public static ScratchPool Shared { get; } = new();

    /// <summary>An array of at least <paramref name="minLength"/> floats (its previous contents are arbitrary).</summary>
    public float[] Rent(int minLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minLength);
        lock (_lock)
        {
            // The smallest free array that fits; otherwise replace the largest free one, so the pool does not keep
            // arrays that are too small for the nets in use.
            int best = -1, largest = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                int length = _free[i].Length;
                if (length >= minLength && (best < 0 || length < _free[best].Length))
                {
                    best = i;
                }
                if (largest < 0 || length > _free[largest].Length)
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
    public void Return(float[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        lock (_lock)
        {
            _free.Add(array);
        }
    }

    private float[] Take(int index)
    {
        var array = _free[index];
        _free[index] = _free[^1];
        _free.RemoveAt(_free.Count - 1);
        return array;
    }
}
