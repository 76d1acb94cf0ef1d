using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Layers;

public sealed class HDF5OutputLayerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LayerParameter Param(string file) => new()
    {
        Name = "out",
        Type = "HDF5Output",
        Hdf5OutputParam = new HDF5OutputParameter { FileName = file },
    };

    [Fact]
    public void Forward_AppendsBatches_WrittenAsDataAndLabelOnDispose()
    {
        string file = _dir.Combine("features.h5");
        var layer = new HDF5OutputLayer(Param(file));
        var data = TestBlobs.Gaussian(1701, 1f, 2, 3, 2, 2);
        var label = new Blob(2);
        layer.SetUp([data, label], []);
        var expectedData = new List<float>();
        var expectedLabel = new List<float>();
        for (int batch = 0; batch < 3; batch++)
        {
            Rng.Gaussian(data.Data, 0, 1);
            label.Data[0] = 2 * batch;
            label.Data[1] = (2 * batch) + 1;
            layer.Forward([data, label], []);
            expectedData.AddRange(data.Data.ToArray());
            expectedLabel.AddRange(label.Data.ToArray());
        }
        Assert.False(File.Exists(file));
        layer.Dispose();
        layer.Dispose();

        var (values, shape) = Hdf5Datasets.ReadFloats(file, "data");
        Assert.Equal([6, 3, 2, 2], shape);
        Assert.Equal(expectedData, values);
        var (labels, labelShape) = Hdf5Datasets.ReadFloats(file, "label");
        Assert.Equal([6, 1, 1, 1], labelShape); // Caffe saves 4-D blobs
        Assert.Equal(expectedLabel, labels);
        Assert.Equal([file], Directory.GetFiles(_dir.Path));
        Assert.Throws<ObjectDisposedException>(() => layer.Forward([data, label], []));
    }

    [Fact]
    public void Flush_ReplacesTheFileWhole_AndReadsBackThroughHDF5Data()
    {
        string file = _dir.Combine("out.h5");
        File.WriteAllText(file, "an older file");
        using var layer = new HDF5OutputLayer(Param(file));
        var data = new Blob(3, 4);
        var label = new Blob(3, 2);
        for (int i = 0; i < 12; i++)
        {
            data.Data[i] = i;
        }
        label.Data.Fill(7);
        layer.SetUp([data, label], []);
        layer.Forward([data, label], []);
        layer.Flush();
        Assert.Equal(3, layer.Rows);

        // The written file is a valid HDF5Data source: rows come back as they went in.
        string list = _dir.Combine("list.txt");
        File.WriteAllText(list, file);
        var reader = new HDF5DataLayer(new LayerParameter { Name = "in", Type = "HDF5Data", Top = { "data", "label" }, Hdf5DataParam = new HDF5DataParameter { Source = list, BatchSize = 3 } });
        var top = new[] { new Blob(), new Blob() };
        reader.SetUp([], top);
        reader.Forward([], top);
        Assert.Equal([3, 4, 1, 1], top[0].Shape);
        Assert.Equal(data.Data.ToArray(), top[0].Data.ToArray());
        Assert.Equal([3, 2, 1, 1], top[1].Shape);
        Assert.All(top[1].Data.ToArray(), v => Assert.Equal(7f, v));
    }

    [Fact]
    public void Net_ImageDataIntoHDF5Output_WritesEveryBatchWhenTheNetIsDisposed()
    {
        TestImages.WritePngs(_dir.Combine("root"), 3, 4, 5);
        File.WriteAllLines(_dir.Combine("list.txt"), ["img0.png 0", "img1.png 1", "img2.png 2"]);
        string file = _dir.Combine("dump.h5");
        string prototxt = $$"""
            layer { name: "images" type: "ImageData" top: "data" top: "label"
                    image_data_param { source: "{{_dir.Combine("list.txt")}}" root_folder: "{{_dir.Combine("root")}}/" batch_size: 2 }
                    transform_param { scale: 0.5 } }
            layer { name: "out" type: "HDF5Output" bottom: "data" bottom: "label" hdf5_output_param { file_name: "{{file}}" } }
            """;
        using (var net = NetBuilder.Build(prototxt, Phase.Test))
        {
            net.Forward();
            net.Forward();
        }
        var (values, shape) = Hdf5Datasets.ReadFloats(file, "data");
        Assert.Equal([4, 3, 4, 5], shape);
        int[] order = [0, 1, 2, 0];
        for (int item = 0; item < 4; item++)
        {
            Assert.Equal(TestImages.Pixel(order[item], 2, 3, 4) * 0.5f, values[(item * 60) + 59]);
        }
        Assert.Equal([0f, 1, 2, 0], Hdf5Datasets.ReadFloats(file, "label").Values);
    }

    [Fact]
    public void SetUp_BadParameters_NameTheLayer()
    {
        var e = Assert.Throws<CremaException>(() => new HDF5OutputLayer(Param("")).SetUp([new Blob(1), new Blob(1)], []));
        Assert.Contains("'out' (type HDF5Output)", e.Message, StringComparison.Ordinal);
        Assert.Contains("file_name", e.Message, StringComparison.Ordinal);

        string nowhere = Path.Combine(_dir.Combine("no-such-folder"), "x.h5");
        e = Assert.Throws<CremaException>(() => new HDF5OutputLayer(Param(nowhere)).SetUp([new Blob(1), new Blob(1)], []));
        Assert.Contains("no-such-folder", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<CremaException>(() => new HDF5OutputLayer(Param(_dir.Combine("a.h5"))).SetUp([new Blob(2, 3), new Blob(3)], []));
        Assert.Contains("same number of rows", e.Message, StringComparison.Ordinal);

        using var layer = new HDF5OutputLayer(Param(_dir.Combine("b.h5")));
        layer.SetUp([new Blob(2, 3), new Blob(2)], []);
        layer.Forward([new Blob(2, 3), new Blob(2)], []);
        e = Assert.Throws<CremaException>(() => layer.Forward([new Blob(2, 4), new Blob(2)], []));
        Assert.Contains("differ from the first batch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_IsRefused()
    {
        using var layer = new HDF5OutputLayer(Param(_dir.Combine("c.h5")));
        var data = new Blob(2, 3);
        var label = new Blob(2);
        layer.SetUp([data, label], []);
        var e = Assert.Throws<CremaException>(() => layer.Backward([], [true, false], [data, label]));
        Assert.Contains("'out'", e.Message, StringComparison.Ordinal);
        Assert.Contains("cannot backpropagate", e.Message, StringComparison.Ordinal);
    }
}
