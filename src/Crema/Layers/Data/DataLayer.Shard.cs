using Crema.Proto;

namespace Crema.Layers;

// Data-parallel sharding (see DataShard): rank r skips r batches at the start and K-1 batches after each of its own.
public sealed partial class DataLayer
{
    /// <summary>The shard this layer reads, taken from <see cref="DataShard.Ambient"/> at set-up in TRAIN phase; null reads every record.</summary>
    public DataShard? Shard { get; private set; }

    private void StartShard()
    {
        Shard = Phase == Phase.Train && DataShard.Ambient is { Count: > 1 } shard ? shard : null;
        SkipBatches(Shard?.Rank ?? 0);
    }

    private void SkipOtherShards() => SkipBatches(Shard is { } shard ? shard.Count - 1 : 0);

    private void SkipBatches(int batches)
    {
        long records = (long)batches * DataParam.BatchSize;
        for (long i = 0; i < records; i++)
        {
            _cursor!.Advance();
        }
    }
}
