using System.CommandLine;
using Crema.Data;

namespace Crema.Cli.Commands;

/// <summary>`crema convert_mnist_siamese_data images labels out_db [-backend leveldb] [-seed N]`: random digit pairs as 2-channel datums, label = same class (Caffe's examples/siamese).</summary>
internal static class ConvertMnistSiameseCommand
{
    public static Command Create()
    {
        var images = new Argument<string>("input_image_file") { Description = "MNIST images in IDX format (raw or gzip)." };
        var labels = new Argument<string>("input_label_file") { Description = "MNIST labels in IDX format (raw or gzip)." };
        var output = new Argument<string>("output_db_file") { Description = "The database folder to create." };
        var backend = new Option<string>("--backend") { Description = "The db backend: leveldb (Caffe's siamese example) or lmdb.", DefaultValueFactory = _ => "leveldb" };
        var seed = new Option<int?>("--seed") { Description = "Seed for drawing the pairs (default: a fresh one each run, as Caffe)." };
        var command = new Command("convert_mnist_siamese_data", "Convert MNIST to random digit pairs (2-channel datums, label 1 = same digit) for a siamese net.")
        {
            images, labels, output, backend, seed,
        };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            var db = BackendOption.Parse(r.GetValue(backend));
            string outPath = r.GetValue(output)!;
            if (Directory.Exists(outPath) && Directory.EnumerateFileSystemEntries(outPath).Any())
            {
                throw new CremaException($"{outPath}: output database already exists; remove it first");
            }
            int s = r.GetValue(seed) ?? Environment.TickCount;
            Log.Info($"Opening {KeyValueDb.Name(db)} {outPath}");
            int count = SiameseConverter.Convert(r.GetValue(images)!, r.GetValue(labels)!, outPath, s, db);
            Log.Info($"A total of {count} pairs.");
            return 0;
        }));
        return command;
    }
}
