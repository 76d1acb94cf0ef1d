using System.Globalization;

namespace Crema;

/// <summary>
/// Refuses blob allocations the machine cannot hold, so `num_output: 2000000000` fails with a clear error instead of
/// swapping or being killed. The limit is the memory the runtime sees (physical or the container's), or
/// CREMA_MEMORY_LIMIT_MB when set lower.
/// </summary>
public static class MemoryGuard
{
    private static readonly AsyncLocal<long?> ScopedLimit = new();

    /// <summary>Lowers the limit for this async flow (and threads it starts) until disposed: for tests and hosts that share a process.</summary>
    public static IDisposable UseLimit(long bytes)
    {
        var previous = ScopedLimit.Value;
        ScopedLimit.Value = bytes;
        return new Scope(previous);
    }

    private sealed class Scope(long? previous) : IDisposable
    {
        public void Dispose() => ScopedLimit.Value = previous;
    }

    /// <summary>Bytes blob memory may reach in this process.</summary>
    public static long LimitBytes
    {
        get
        {
            long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (ScopedLimit.Value is long scoped && scoped < limit)
            {
                limit = scoped;
            }
            string? text = Environment.GetEnvironmentVariable("CREMA_MEMORY_LIMIT_MB");
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long mb) && mb > 0 && mb < limit >> 20)
            {
                limit = mb << 20;
            }
            return limit;
        }
    }

    /// <summary>Throws <see cref="MemoryLimitException"/> when <paramref name="bytes"/> more blob memory would pass the limit.</summary>
    public static void CheckAllocation(long bytes)
    {
        long live = FloatBuffer.LiveBytes;
        long limit = LimitBytes;
        if (bytes > limit - live)
        {
            throw new MemoryLimitException($"a blob of {Size(bytes)} does not fit: {Size(live)} already in use, limit {Size(limit)}");
        }
    }

    internal static string Size(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.##} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.##} MiB");
}

/// <summary>A blob (or a net's blobs) would need more memory than <see cref="MemoryGuard.LimitBytes"/>.</summary>
public sealed class MemoryLimitException : CremaException
{
    public MemoryLimitException() { }

    public MemoryLimitException(string message) : base(message) { }

    public MemoryLimitException(string message, Exception inner) : base(message, inner) { }
}
