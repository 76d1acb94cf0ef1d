using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Layers;

public sealed class HDF5DataLayerTests : IDisposable
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData", "hdf5");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteList(params string[] files)
    {
        string list = _dir.Combine("list.txt");
        File.WriteAllLines(list, files.Select(f => Path.Combine(Folder, f)));
        return list;
    }

    private static HDF5DataLayer Create(string source, uint batch, bool shuffle = false) => new(new LayerParameter
    {
        Name = "hdf5",
        Type = "HDF5Data",
        Top = { "data", "label", "label2" },
        Hdf5DataParam = new HDF5DataParameter { Source = source, BatchSize = batch, Shuffle = shuffle },
    });

    [Fact]
    public void Forward_TwoFiles_MatchesCaffeSampleData()
    {
        var layer = Create(WriteList("sample_data.h5", "sample_data_2_gzip.h5"), 5);
        var data = new Blob();
        var label = new Blob();
        var label2 = new Blob();
        layer.SetUp([], [data, label, label2]);
        Assert.Equal([5, 8, 6, 5], data.Shape);
        Assert.Equal([5, 1], label.Shape);
        Assert.Equal([5, 1], label2.Shape);

        for (int iter = 0; iter < 10; iter++)
        {
            layer.Forward([], [data, label, label2]);
            int file = iter / 2 % 2;
            int firstRow = iter % 2 * 5;
            for (int i = 0; i < 5; i++)
            {
                int row = firstRow + i;
                Assert.Equal(row + 1, label.Data[i]);
                Assert.Equal(row + 2, label2.Data[i]);
                for (int j = 0; j < 240; j++)
                {
                    Assert.Equal(file * 2400 + row * 240 + j, data.Data[i * 240 + j]);
                }
            }
        }
    }

    [Fact]
    public void Forward_Shuffle_VisitsEveryRowOncePerEpoch()
    {
        Rng.Seed(1701);
        var layer = Create(WriteList("sample_data.h5"), 2, shuffle: true);
        var tops = new[] { new Blob(), new Blob(), new Blob() };
        layer.SetUp([], tops);
        var seen = new List<float>();
        for (int iter = 0; iter < 5; iter++)
        {
            layer.Forward([], tops);
            seen.AddRange(tops[1].Data.ToArray());
            // Rows stay intact: data of row r starts at 240 (label − 1) and label2 = label + 1.
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(240 * (tops[1].Data[i] - 1), tops[0].Data[i * 240]);
                Assert.Equal(tops[1].Data[i] + 1, tops[2].Data[i]);
            }
        }
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (float)i), seen.Order());
        Assert.NotEqual(Enumerable.Range(1, 10).Select(i => (float)i), seen);
    }

    [Fact]
    public void SetUp_MissingDataset_NamesDatasetAndFile()
    {
        var layer = new HDF5DataLayer(new LayerParameter
        {
            Name = "hdf5",
            Type = "HDF5Data",
            Top = { "data", "nope" },
            Hdf5DataParam = new HDF5DataParameter { Source = WriteList("sample_data.h5"), BatchSize = 2 },
        });
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
        Assert.Contains("sample_data.h5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_MissingSource_NamesPath()
    {
        string path = _dir.Combine("missing.txt");
        var e = Assert.Throws<CremaException>(() => Create(path, 2).SetUp([], [new Blob(), new Blob(), new Blob()]));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("'hdf5'", e.Message, StringComparison.Ordinal);
    }
}
