using System.CommandLine;
using Crema.Data;
using Crema.Tools;

namespace Crema.Cli.Commands;

/// <summary>`crema convert_imageset [flags] ROOTFOLDER/ LISTFILE DB_NAME`: images listed as "path label" → an LMDB or LevelDB of Datums, as Caffe's tool.</summary>
internal static class ConvertImagesetCommand
{
    public static Command Create()
    {
        var root = new Argument<string>("ROOTFOLDER") { Description = "Prefix joined to each listed path (keep the trailing slash)." };
        var list = new Argument<string>("LISTFILE") { Description = "Lines of 'relative/path label'." };
        var db = new Argument<string>("DB_NAME") { Description = "The database folder to create." };
        var gray = new Option<bool>("--gray") { Description = "Store 1-channel gray images." };
        var shuffle = new Option<bool>("--shuffle") { Description = "Randomly shuffle the order of images." };
        var height = new Option<int>("--resize_height") { Description = "Resize images to this height (0: keep)." };
        var width = new Option<int>("--resize_width") { Description = "Resize images to this width (0: keep)." };
        var checkSize = new Option<bool>("--check_size") { Description = "Check that all datums have the same size." };
        var encoded = new Option<bool>("--encoded") { Description = "Store the encoded image bytes in the datum." };
        var encodeType = new Option<string>("--encode_type") { Description = "Re-encode stored images as png or jpg." };
        var backend = BackendOption.Create();
        var command = new Command("convert_imageset", "Convert a set of images to an LMDB or LevelDB of Caffe Datum records.")
        {
            root, list, db, gray, shuffle, height, width, checkSize, encoded, encodeType, backend,
        };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            var options = new ImagesetOptions
            {
                Gray = r.GetValue(gray),
                Shuffle = r.GetValue(shuffle),
                ResizeHeight = r.GetValue(height),
                ResizeWidth = r.GetValue(width),
                CheckSize = r.GetValue(checkSize),
                Encoded = r.GetValue(encoded),
                EncodeType = r.GetValue(encodeType) ?? "",
                Backend = BackendOption.Parse(r.GetValue(backend)),
            };
            string outPath = r.GetValue(db)!;
            Log.Info($"Opening {KeyValueDb.Name(options.Backend)} {outPath}");
            Progress? bar = null;
            try
            {
                int count = ImagesetConverter.Convert(r.GetValue(root)!, r.GetValue(list)!, outPath, options, (done, total) =>
                {
                    bar ??= Progress.Start("convert_imageset", total);
                    bar?.Report(done);
                    if (done % 1000 == 0)
                    {
                        Log.Info($"Processed {done} files.");
                    }
                });
                bar?.Dispose();
                if (count % 1000 != 0)
                {
                    Log.Info($"Processed {count} files.");
                }
                if (count == 0)
                {
                    throw new CremaException($"no image of {r.GetValue(list)} could be read (is ROOTFOLDER '{r.GetValue(root)}' right? it is prefixed as is)");
                }
            }
            finally
            {
                bar?.Dispose();
            }
            return 0;
        }));
        return command;
    }
}
