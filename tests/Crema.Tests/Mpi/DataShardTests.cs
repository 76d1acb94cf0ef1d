using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;
using Google.Protobuf;

namespace Crema.Tests.Mpi;

/// <summary>Data-parallel sharding of the Data layer: rank r of K reads batches r, r+K, r+2K… of the single-process stream.</summary>
public sealed class DataShardTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Eleven 1×1×2 datums: record i has bytes (i, 100 + i) and label i.
    private string WriteRecords(int count)
    {
        string path = _dir.Combine("records");
        using var writer = LmdbDatabase.Create(path);
        for (int i = 0; i < count; i++)
        {
            var datum = new Datum { Channels = 1, Height = 1, Width = 2, Data = ByteString.CopyFrom((byte)i, (byte)(100 + i)), Label = i };
            writer.Put(MnistConverter.Key(i), datum.ToByteArray());
        }
        writer.Complete();
        return path;
    }

    private static DataLayer Layer(string source, uint batchSize, Phase phase = Phase.Train) => new(new LayerParameter
    {
        Name = "data",
        Type = "Data",
        Phase = phase,
        DataParam = new DataParameter { Source = source, BatchSize = batchSize, Backend = DataParameter.Types.DB.Lmdb },
    });

    private static List<int[]> ReadBatches(DataLayer layer, int batches)
    {
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        var result = new List<int[]>();
        for (int b = 0; b < batches; b++)
        {
            layer.Forward([], [data, label]);
            var labels = label.Data.ToArray().Select(v => (int)v).ToArray();
            // The data must travel with its label: pixel 0 of item k is its record index.
            for (int k = 0; k < labels.Length; k++)
            {
                Assert.Equal(labels[k], data.Data[k * 2]);
            }
            result.Add(labels);
        }
        return result;
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    public void ShardedRanks_ReadEveryKthBatchOfTheSingleProcessStream(int ranks, uint batchSize)
    {
        // 11 records do not divide into batches: the stream wraps mid-batch, and shards must follow the same stream.
        string source = WriteRecords(11);
        const int steps = 6;
        List<int[]> single;
        using (var layer = Layer(source, batchSize))
        {
            single = ReadBatches(layer, steps * ranks);
        }
        for (int rank = 0; rank < ranks; rank++)
        {
            DataLayer layer;
            using (DataShard.Use(new DataShard(rank, ranks)))
            {
                layer = Layer(source, batchSize);
                using (layer)
                {
                    var mine = ReadBatches(layer, steps);
                    Assert.Equal(new DataShard(rank, ranks), layer.Shard);
                    for (int step = 0; step < steps; step++)
                    {
                        Assert.Equal(single[step * ranks + rank], mine[step]);
                    }
                }
            }
        }
    }

    [Fact]
    public void TestPhase_AndNoScope_ReadEveryRecord()
    {
        string source = WriteRecords(11);
        using (DataShard.Use(new DataShard(1, 2)))
        {
            using var test = Layer(source, 3, Phase.Test);
            Assert.Null(test.Shard);
            Assert.Equal([[0, 1, 2], [3, 4, 5]], ReadBatches(test, 2));
        }
        using var outside = Layer(source, 3);
        Assert.Null(outside.Shard);
        Assert.Equal([[0, 1, 2], [3, 4, 5]], ReadBatches(outside, 2));
    }

    [Fact]
    public void Shard_RejectsRankOutsideCount()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataShard(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataShard(0, 0));
    }
}
