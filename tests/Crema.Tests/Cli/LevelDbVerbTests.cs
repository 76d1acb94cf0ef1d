using Crema.Data;
using Crema.Proto;
using Crema.Tests.Data;
using Crema.Tools;
using Google.Protobuf;

namespace Crema.Tests.Cli;

/// <summary>-backend leveldb on the converters, convert_cifar_data and convert_mnist_siamese_data.</summary>
[Collection(CliCollection.Name)]
public class LevelDbVerbTests
{
    private static List<(string Key, Datum Datum)> ReadAll(string db, DbBackend backend)
    {
        using var cursor = KeyValueDb.OpenCursor(db, backend);
        var result = new List<(string, Datum)>();
        for (; cursor.IsValid; cursor.MoveNext())
        {
            result.Add((cursor.KeyString, Datum.Parser.ParseFrom(cursor.Value)));
        }
        return result;
    }

    [Fact]
    public void ConvertMnistData_LevelDb_HoldsTheIdxRecords()
    {
        using var dir = new TempDir();
        var idx = IdxFile.Read(MnistFixture.TrainImages, 30);
        var labels = IdxFile.Read(MnistFixture.TrainLabels, 30);
        // The verb converts the whole file; compare the first records against the IDX files directly.
        var r = CliRunner.Run("convert_mnist_data", MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("leveldb"), "-backend", "leveldb");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => l.Contains("Opening leveldb", StringComparison.Ordinal));
        Assert.True(File.Exists(dir.Combine("leveldb/CURRENT")));
        var records = ReadAll(dir.Combine("leveldb"), DbBackend.LevelDb);
        Assert.Equal(IdxFile.Read(MnistFixture.TrainLabels).Count, records.Count);
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(MnistConverter.Key(i), records[i].Key);
            Assert.Equal(idx.Item(i).ToArray(), records[i].Datum.Data.ToByteArray());
            Assert.Equal(labels.Data[i], records[i].Datum.Label);
        }
        if (Plyvel.Available)
        {
            // Real libleveldb sees the same keys (and values: the dump hashes them).
            Assert.Equal(records.Count, Plyvel.Dump(dir.Combine("leveldb")).Length);
        }
    }

    [Fact]
    public void ConvertMnistData_UnknownBackend_OneLine()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("convert_mnist_data", MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("db"), "-backend", "rocksdb");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrorLines);
        Assert.Contains("-backend rocksdb: unknown db backend (use lmdb or leveldb)", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertImagesetAndComputeImageMean_LevelDb()
    {
        using var dir = new TempDir();
        string root = dir.Combine("img") + "/";
        Directory.CreateDirectory(root);
        var a = new DecodedImage([.. Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)(i * 4))], 3, 4, 5);
        var b = new DecodedImage([.. Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)(250 - i))], 3, 4, 5);
        File.WriteAllBytes(root + "a.png", ImageDecoder.Encode(a, "png"));
        File.WriteAllBytes(root + "b.png", ImageDecoder.Encode(b, "png"));
        File.WriteAllText(dir.Combine("list.txt"), "a.png 1\nb.png 2\n");
        var r = CliRunner.Run("convert_imageset", "-backend", "leveldb", root, dir.Combine("list.txt"), dir.Combine("db"));
        Assert.Equal(0, r.ExitCode);
        var records = ReadAll(dir.Combine("db"), DbBackend.LevelDb);
        Assert.Equal(["00000000_a.png", "00000001_b.png"], records.Select(x => x.Key));
        Assert.Equal(a.Data, records[0].Datum.Data.ToByteArray());
        Assert.Equal(b.Data, records[1].Datum.Data.ToByteArray());

        r = CliRunner.Run("compute_image_mean", dir.Combine("db"), dir.Combine("mean.binaryproto"), "-backend", "leveldb");
        Assert.Equal(0, r.ExitCode);
        var mean = ProtoFiles.ReadBlobProto(dir.Combine("mean.binaryproto"));
        Assert.Equal(Enumerable.Range(0, a.Data.Length).Select(i => (a.Data[i] + b.Data[i]) / 2f), mean.Data);

        // An LMDB read as LevelDB: one clear line.
        r = CliRunner.Run("convert_imageset", root, dir.Combine("list.txt"), dir.Combine("lmdb"));
        Assert.Equal(0, r.ExitCode);
        r = CliRunner.Run("compute_image_mean", dir.Combine("lmdb"), "-backend", "leveldb");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is an LMDB database, not a LevelDB one", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ComputeImageMean_OnLibLevelDbFixture_MatchesAHandAverage()
    {
        string fixture = Path.Combine(AppContext.BaseDirectory, "TestData", "leveldb", "mnist20_mixed");
        var mean = ImageMean.Compute(fixture, null, DbBackend.LevelDb);
        var records = ReadAll(fixture, DbBackend.LevelDb);
        Assert.Equal(19, records.Count);
        for (int i = 0; i < 784; i += 37)
        {
            double s = records.Sum(x => (double)x.Datum.Data[i]);
            Assert.Equal((float)(s / 19), mean.Data[i]);
        }
    }

    [Fact]
    public void ExtractFeatures_LevelDb_OneFloatDatumPerImage()
    {
        using var dir = new TempDir();
        string fixture = Path.Combine(AppContext.BaseDirectory, "TestData", "leveldb", "mnist20_sst");
        string model = dir.Combine("net.prototxt");
        File.WriteAllText(model, $$"""
            layer { name: "data" type: "Data" top: "data" top: "label" data_param { source: "{{fixture}}" batch_size: 4 backend: LEVELDB } }
            layer { name: "sum" type: "Reduction" bottom: "data" top: "sum" reduction_param { axis: 1 } }
            """);
        using (var net = new Crema.Nets.Net(ProtoFiles.ReadNetText(model), Phase.Test))
        {
            net.Save(dir.Combine("w.caffemodel"));
        }
        var r = CliRunner.Run("extract_features", dir.Combine("w.caffemodel"), model, "data", dir.Combine("feat"), "2", "leveldb");
        Assert.Equal(0, r.ExitCode);
        var features = ReadAll(dir.Combine("feat"), DbBackend.LevelDb);
        var digits = ReadAll(fixture, DbBackend.LevelDb);
        Assert.Equal(8, features.Count);
        for (int n = 0; n < 8; n++)
        {
            Assert.Equal(n.ToString("D10", System.Globalization.CultureInfo.InvariantCulture), features[n].Key);
            Assert.Equal(digits[n].Datum.Data.ToByteArray().Select(x => (float)x), features[n].Datum.FloatData);
        }
    }

    /// <summary>Five train batches of 3 records and a test batch of 2: record r of batch b has label (b + r) mod 10, pixels (37b + 11r + j) mod 256.</summary>
    private static string MakeCifar(TempDir dir)
    {
        string folder = dir.Combine("cifar-10-batches-bin");
        Directory.CreateDirectory(folder);
        for (int b = 1; b <= 6; b++)
        {
            int records = b == 6 ? 2 : 3;
            var bytes = new byte[records * 3073];
            for (int r = 0; r < records; r++)
            {
                bytes[r * 3073] = (byte)((b + r) % 10);
                for (int j = 0; j < 3072; j++)
                {
                    bytes[(r * 3073) + 1 + j] = (byte)(((37 * b) + (11 * r) + j) % 256);
                }
            }
            File.WriteAllBytes(Path.Combine(folder, b == 6 ? "test_batch.bin" : $"data_batch_{b}.bin"), bytes);
        }
        return folder;
    }

    [Theory]
    [InlineData("lmdb", DbBackend.Lmdb)]
    [InlineData("leveldb", DbBackend.LevelDb)]
    public void ConvertCifarData_TrainAndTestDatabases(string name, DbBackend backend)
    {
        using var dir = new TempDir();
        string input = MakeCifar(dir);
        var r = CliRunner.Run("convert_cifar_data", input, dir.Combine("out"), name);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => l.EndsWith("Training Batch 5", StringComparison.Ordinal));
        var train = ReadAll(Path.Combine(dir.Path, "out", $"cifar10_train_{name}"), backend);
        var test = ReadAll(Path.Combine(dir.Path, "out", $"cifar10_test_{name}"), backend);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)), train.Select(x => x.Key));
        Assert.Equal(["00000", "00001"], test.Select(x => x.Key));
        for (int i = 0; i < 15; i++)
        {
            int b = (i / 3) + 1, rec = i % 3;
            var d = train[i].Datum;
            Assert.Equal((3, 32, 32, (b + rec) % 10), (d.Channels, d.Height, d.Width, d.Label));
            Assert.Equal(Enumerable.Range(0, 3072).Select(j => (byte)(((37 * b) + (11 * rec) + j) % 256)), d.Data.ToByteArray());
        }
        Assert.Equal((6 + 1) % 10, test[1].Datum.Label);
        Assert.Equal((byte)(((37 * 6) + 11 + 5) % 256), test[1].Datum.Data[5]);
    }

    [Fact]
    public void ConvertCifarData_MissingOrTruncatedBatch_OneLineAndNoDatabase()
    {
        using var dir = new TempDir();
        string input = MakeCifar(dir);
        File.Delete(Path.Combine(input, "data_batch_4.bin"));
        var r = CliRunner.Run("convert_cifar_data", input, dir.Combine("out"), "leveldb");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("data_batch_4.bin' not found", r.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "out", "cifar10_train_leveldb")));

        File.WriteAllBytes(Path.Combine(input, "data_batch_4.bin"), new byte[3073 + 100]);
        r = CliRunner.Run("convert_cifar_data", input, dir.Combine("out"), "leveldb");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("has 3173 bytes, not a whole number of 3073-byte records", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertMnistSiameseData_PairsStackedAsTwoChannels_LabelIsSameClass()
    {
        using var dir = new TempDir();
        var images = IdxFile.Read(MnistFixture.TrainImages);
        var labels = IdxFile.Read(MnistFixture.TrainLabels);
        var r = CliRunner.Run("convert_mnist_siamese_data", MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("pairs"), "-seed", "7");
        Assert.Equal(0, r.ExitCode);
        var records = ReadAll(dir.Combine("pairs"), DbBackend.LevelDb);
        Assert.Equal(images.Count, records.Count);
        // Find each half among the digits (by content) and check the label against their classes.
        var byContent = new Dictionary<string, int>();
        for (int i = 0; i < images.Count; i++)
        {
            byContent.TryAdd(Convert.ToBase64String(images.Item(i)), i);
        }
        int same = 0;
        for (int n = 0; n < 200; n++)
        {
            var (key, d) = records[n];
            Assert.Equal(MnistConverter.Key(n), key);
            Assert.Equal((2, 28, 28), (d.Channels, d.Height, d.Width));
            var bytes = d.Data.ToByteArray();
            int i = byContent[Convert.ToBase64String(bytes, 0, 784)];
            int j = byContent[Convert.ToBase64String(bytes, 784, 784)];
            Assert.Equal(labels.Data[i] == labels.Data[j] ? 1 : 0, d.Label);
            same += d.Label;
        }
        // Random pairs of ten classes match about a tenth of the time.
        Assert.InRange(same, 5, 50);

        // The same seed gives the same pairs; another seed, others.
        Assert.Equal(0, CliRunner.Run("convert_mnist_siamese_data", MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("again"), "-seed", "7").ExitCode);
        Assert.Equal(records.Take(50).Select(x => x.Datum), ReadAll(dir.Combine("again"), DbBackend.LevelDb).Take(50).Select(x => x.Datum));
        Assert.Equal(0, CliRunner.Run("convert_mnist_siamese_data", MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("other"), "-seed", "8", "-backend", "lmdb").ExitCode);
        Assert.NotEqual(records.Take(50).Select(x => x.Datum), ReadAll(dir.Combine("other"), DbBackend.Lmdb).Take(50).Select(x => x.Datum));
    }

    [Fact]
    public void SiameseExamplePrototxt_TrainsOnConvertedPairs()
    {
        // Caffe's own siamese train net (a slice/feature/contrastive-loss net) reads the pairs from LevelDB.
        using var dir = new TempDir();
        SiameseConverter.Convert(Path.Combine(MnistFixture.Directory, "test-images-idx3-ubyte.gz"), Path.Combine(MnistFixture.Directory, "test-labels-idx1-ubyte.gz"), dir.Combine("pairs"), seed: 3);
        string proto = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "models", "bvlc_caffe", "examples_siamese", "mnist_siamese_train_test.prototxt"))
            .Replace("examples/siamese/mnist_siamese_train_leveldb", dir.Combine("pairs"), StringComparison.Ordinal)
            .Replace("examples/siamese/mnist_siamese_test_leveldb", dir.Combine("pairs"), StringComparison.Ordinal);
        using var net = NetBuilder.Build(proto, Phase.Train);
        float loss = net.ForwardBackward();
        Assert.True(float.IsFinite(loss) && loss > 0, $"loss {loss}");
        Assert.Equal([64, 2, 28, 28], net.Blobs["pair_data"].Shape);
    }
}
