using System.CommandLine;
using Crema.Proto;
using Crema.Tools;

namespace Crema.Cli.Commands;

/// <summary>`crema compute_image_mean input_db [output_file] [-backend lmdb|leveldb]`: the mean image of a Datum LMDB or LevelDB as a binaryproto.</summary>
internal static class ComputeImageMeanCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input_db") { Description = "The LMDB or LevelDB of Datum records." };
        var output = new Argument<string>("output_file") { Description = "Where to write the mean (BlobProto, .binaryproto); omit to only print channel means.", Arity = ArgumentArity.ZeroOrOne };
        var backend = BackendOption.Create();
        var command = new Command("compute_image_mean", "Compute the mean image of a Datum database.") { input, output, backend };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            var kind = BackendOption.Parse(r.GetValue(backend));
            string db = r.GetValue(input)!;
            var mean = ImageMean.Compute(db, n => Log.Info($"Processed {n} files."), kind);
            string? outFile = r.GetValue(output);
            if (!string.IsNullOrEmpty(outFile))
            {
                Log.Info($"Write to {outFile}");
                ProtoFiles.WriteBinaryAtomic(mean, outFile);
            }
            Log.Info($"Number of channels: {mean.Channels}");
            var channelMeans = ImageMean.ChannelMeans(mean);
            for (int c = 0; c < channelMeans.Length; c++)
            {
                Log.Info($"mean_value channel [{c}]: {Log.Num(channelMeans[c])}");
            }
            return 0;
        }));
        return command;
    }
}
