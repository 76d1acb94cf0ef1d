namespace Crema.Layers;

/// <summary>
/// The part of a Data layer's record stream one process reads in data-parallel training: the stream is cut into
/// batches of batch_size consecutive records and batch b goes to rank b mod <see cref="Count"/>. K ranks together
/// therefore read, per step, exactly the K batches one process with iter_size K reads, in the same grouping.
/// </summary>
public readonly record struct DataShard
{
    private static readonly AsyncLocal<DataShard?> Current = new();

    public DataShard(int rank, int count)
    {
        if (count < 1 || rank < 0 || rank >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), $"shard rank {rank} of {count} is out of range");
        }
        Rank = rank;
        Count = count;
    }

    public int Rank { get; }

    public int Count { get; }

    /// <summary>The shard TRAIN-phase Data layers set up in this flow take (null: every record).</summary>
    public static DataShard? Ambient => Current.Value;

    /// <summary>Makes Data layers set up (in TRAIN phase) on this flow read <paramref name="shard"/> until disposed.</summary>
    public static IDisposable Use(DataShard shard)
    {
        var previous = Current.Value;
        Current.Value = shard;
        return new Scope(previous);
    }

    private sealed class Scope(DataShard? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
