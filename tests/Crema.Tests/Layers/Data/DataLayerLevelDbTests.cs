using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Solvers;
using Crema.Tests.Data;

namespace Crema.Tests.Layers;

/// <summary>backend: LEVELDB reads the same records as an LMDB holding them, so nets see the same batches.</summary>
public sealed class DataLayerLevelDbTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "leveldb", name);

    // The fixture's records copied into an LMDB with Crema's (independently tested) LMDB writer.
    private string CopyToLmdb(string leveldb)
    {
        string path = _dir.Combine("copy_lmdb");
        using var cursor = KeyValueDb.OpenCursor(leveldb, DbBackend.LevelDb);
        using var writer = LmdbDatabase.Create(path);
        for (; cursor.IsValid; cursor.MoveNext())
        {
            writer.Put(cursor.KeyString, cursor.Value);
        }
        return path;
    }

    [Fact]
    public void Forward_LevelDbFixture_BatchesFollowKeyOrderAndWrap()
    {
        // mnist20_mixed holds 19 live records after libleveldb's overwrites and deletions; batches of 8 wrap twice in 5.
        string fixture = Fixture("mnist20_mixed");
        var labels = File.ReadAllLines(fixture + ".expected.tsv").Select(l => float.Parse(l.Split('\t')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(19, labels.Length);
        var p = new LayerParameter
        {
            Name = "data",
            Type = "Data",
            DataParam = new DataParameter { Source = fixture, BatchSize = 8, Backend = DataParameter.Types.DB.Leveldb },
        };
        using var layer = new DataLayer(p);
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        Assert.Equal([8, 1, 28, 28], data.Shape);
        for (int batch = 0; batch < 5; batch++)
        {
            layer.Forward([], [data, label]);
            for (int i = 0; i < 8; i++)
            {
                Assert.Equal(labels[((batch * 8) + i) % 19], label.Data[i]);
            }
        }
    }

    [Fact]
    public void Train_OnLevelDb_MatchesTheSameRecordsInLmdb()
    {
        string leveldb = Fixture("mnist20_sst");
        string lmdb = CopyToLmdb(leveldb);
        var fromLevelDb = Train(leveldb, "LEVELDB");
        var fromLmdb = Train(lmdb, "LMDB");
        Assert.Equal(fromLmdb, fromLevelDb);
        Assert.True(fromLmdb[^1] < fromLmdb[0], $"loss should fall: {string.Join(", ", fromLmdb)}");
    }

    [Fact]
    public void Backend_Unspecified_OverALevelDbDirectory_ReadsLevelDb()
    {
        // caffe.proto's default backend is LEVELDB: old prototxts without `backend` name LevelDB folders.
        var p = new LayerParameter { Name = "data", Type = "Data", DataParam = new DataParameter { Source = Fixture("mnist20_log"), BatchSize = 2 } };
        using var layer = new DataLayer(p);
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Forward([], [data, label]);
        var first = File.ReadAllLines(Fixture("mnist20_log.expected.tsv"))[0].Split('\t');
        Assert.Equal(float.Parse(first[1], System.Globalization.CultureInfo.InvariantCulture), label.Data[0]);
    }

    // Ten SGD steps of a small classifier over batches of 6 (the 19 records wrap); returns the loss of each step.
    private static float[] Train(string source, string backend)
    {
        string net = $$"""
            layer { name: "mnist" type: "Data" top: "data" top: "label"
              data_param { source: "{{source}}" batch_size: 6 backend: {{backend}} }
              transform_param { scale: 0.00390625 } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
              inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """;
        var param = PrototxtParser.Parse<SolverParameter>("base_lr: 0.1 lr_policy: \"fixed\" max_iter: 10 display: 0 random_seed: 1701 snapshot_after_train: false", "solver.prototxt");
        param.NetParam = PrototxtParser.Parse<NetParameter>(net, "net.prototxt");
        bool quiet = Log.Quiet;
        Log.Quiet = true;
        try
        {
            using var solver = SolverFactory.Create(param);
            var losses = new float[10];
            for (int i = 0; i < losses.Length; i++)
            {
                solver.Step(1);
                losses[i] = solver.Net.Blobs["loss"].Data[0];
            }
            return losses;
        }
        finally
        {
            Log.Quiet = quiet;
        }
    }
}
