namespace Crema;

/// <summary>
/// Crema's seeded random source (Caffe's Caffe::rng_stream). Fillers, Dropout, shuffling data layers draw from it,
/// so <see cref="Seed"/> with the solver's random_seed makes a run repeatable on the same machine.
/// </summary>
public static class Rng
{
    [ThreadStatic]
    private static Random? _random;
    private static int _seed = Environment.TickCount;
    private static int _generation;
    [ThreadStatic]
    private static int _threadGeneration;
    [ThreadStatic]
    private static bool _pinned;

    /// <summary>
    /// Re-seeds: the calling thread's stream restarts from <paramref name="seed"/> at once and stays its own until it seeds
    /// again; threads that never seed (prefetch workers) restart from the latest seed on their next draw.
    /// </summary>
    public static void Seed(long seed)
    {
        _seed = unchecked((int)(seed ^ (seed >> 32)));
        _threadGeneration = Interlocked.Increment(ref _generation);
        _random = new Random(_seed);
        _pinned = true;
    }

    private static Random Current
    {
        get
        {
            if (_random == null || (!_pinned && _threadGeneration != _generation))
            {
                _random = new Random(_seed);
                _threadGeneration = _generation;
            }
            return _random;
        }
    }

    public static int NextInt(int maxExclusive) => Current.Next(maxExclusive);

    /// <summary>Gives the calling thread its own stream from <paramref name="seed"/> without touching other threads (worker threads).</summary>
    public static void SeedThisThread(int seed)
    {
        _random = new Random(seed);
        _pinned = true;
    }

    /// <summary>A seed for a worker thread's own stream, drawn from this thread's (Caffe's caffe_rng_rand for InternalThread).</summary>
    public static int NextSeed() => Current.Next();

    /// <summary>Uniform in [min, max).</summary>
    public static float Uniform(float min, float max) => (float)(min + ((double)max - min) * Current.NextDouble());

    public static void Uniform(Span<float> values, float min, float max)
    {
        var r = Current;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(min + ((double)max - min) * r.NextDouble());
        }
    }

    public static void Gaussian(Span<float> values, float mean, float std)
    {
        var r = Current;
        for (int i = 0; i < values.Length; i += 2)
        {
            // Box-Muller: two independent normals from two uniforms.
            double u1 = 1.0 - r.NextDouble();
            double u2 = r.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(mean + std * radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length)
            {
                values[i + 1] = (float)(mean + std * radius * Math.Sin(2 * Math.PI * u2));
            }
        }
    }

    /// <summary>Each value 1 with probability <paramref name="p"/>, else 0.</summary>
    public static void Bernoulli(Span<float> values, float p)
    {
        var r = Current;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = r.NextDouble() < p ? 1f : 0f;
        }
    }

    public static void Shuffle<T>(IList<T> items)
    {
        var r = Current;
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = r.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
