using System.CommandLine;
using Crema.Data;

namespace Crema.Cli.Commands;

/// <summary>`crema convert_mnist_data images labels out_db [-backend lmdb|leveldb]`: MNIST IDX files (raw or .gz) to an LMDB or LevelDB of Datum records, as Caffe's tool.</summary>
internal static class ConvertMnistCommand
{
    public static Command Create()
    {
        var images = new Argument<string>("input_image_file") { Description = "MNIST images in IDX format (raw or gzip)." };
        var labels = new Argument<string>("input_label_file") { Description = "MNIST labels in IDX format (raw or gzip)." };
        var output = new Argument<string>("output_db_file") { Description = "The database folder to create." };
        var backend = BackendOption.Create();
        var command = new Command("convert_mnist_data", "Convert MNIST IDX files to an LMDB or LevelDB of Caffe Datum records.") { images, labels, output, backend };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            var db = BackendOption.Parse(r.GetValue(backend));
            string outPath = r.GetValue(output)!;
            if (Directory.Exists(outPath) && Directory.EnumerateFileSystemEntries(outPath).Any())
            {
                throw new CremaException($"{outPath}: output database already exists; remove it first");
            }
            Log.Info($"Opening {KeyValueDb.Name(db)} {outPath}");
            Progress? bar = null;
            int count;
            int logged = 0;
            try
            {
                count = MnistConverter.Convert(r.GetValue(images)!, r.GetValue(labels)!, outPath, backend: db, progress: (done, total) =>
                {
                    bar ??= Progress.Start("convert_mnist_data", total);
                    bar?.Report(done);
                    if (done != logged)
                    {
                        // The converter reports every 1000 items and once at the end; log each count once, as Caffe.
                        logged = done;
                        Log.Info($"Processed {done} files.");
                    }
                });
            }
            finally
            {
                bar?.Dispose();
            }
            Log.Info($"A total of {count} items.");
            return 0;
        }));
        return command;
    }
}
