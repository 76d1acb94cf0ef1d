using System.CommandLine;
using System.Globalization;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Tools;
using Google.Protobuf;

namespace Crema.Cli.Commands;

/// <summary>
/// `crema extract_features weights net.prototxt blob1[,blob2] dataset1[,dataset2] num_mini_batches lmdb|leveldb|npy [CPU|GPU] [DEVICE_ID]`:
/// Caffe's feature extraction. lmdb/leveldb: one Datum (float_data) per image, keys "%010d"; npy: one float32 array per blob,
/// shape (N_total, dims after the batch axis).
/// </summary>
internal static class ExtractFeaturesCommand
{
    public static Command Create()
    {
        var weights = new Argument<string>("pretrained_net_param") { Description = "Trained weights (.caffemodel)." };
        var model = new Argument<string>("feature_extraction_proto_file") { Description = "The net definition (.prototxt), run in TEST phase." };
        var blobs = new Argument<string>("extract_feature_blob_names") { Description = "Comma-separated blob names." };
        var datasets = new Argument<string>("save_feature_dataset_names") { Description = "Comma-separated output names, one per blob (LMDB/LevelDB folders, or .npy files)." };
        var batches = new Argument<int>("num_mini_batches") { Description = "How many forward passes to run." };
        var dbType = new Argument<string>("db_type") { Description = "lmdb or leveldb (Caffe's formats), or npy (NumPy arrays)." };
        var device = new Argument<string>("device") { Description = "CPU (GPU is accepted and runs on the CPU).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "CPU" };
        var deviceId = new Argument<int>("device_id") { Description = "Accepted for Caffe compatibility.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("extract_features", "Extract blobs of a trained net into LMDB/LevelDB datums or .npy arrays.")
        {
            weights, model, blobs, datasets, batches, dbType, device, deviceId,
        };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            string mode = r.GetValue(device)!.ToUpperInvariant();
            if (mode is not ("CPU" or "GPU"))
            {
                throw new CremaException($"device must be CPU or GPU (got '{r.GetValue(device)}')");
            }
            Log.Info(mode == "GPU" ? "Using GPU is not supported; using CPU" : "Using CPU");
            string[] blobNames = Split(r.GetValue(blobs)!);
            string[] datasetNames = Split(r.GetValue(datasets)!);
            if (blobNames.Length != datasetNames.Length)
            {
                throw new CremaException($"the number of blob names ({blobNames.Length}) and dataset names ({datasetNames.Length}) must be equal");
            }
            string type = r.GetValue(dbType)!.ToLowerInvariant();
            if (type is not ("lmdb" or "leveldb" or "npy"))
            {
                throw new CremaException($"db_type '{r.GetValue(dbType)}': use lmdb, leveldb or npy");
            }
            int numBatches = r.GetValue(batches);
            string modelFile = r.GetValue(model)!;
            using var net = new Net(ProtoFiles.ReadNetText(modelFile), Phase.Test, Path.GetDirectoryName(Path.GetFullPath(modelFile)));
            net.CopyTrainedLayersFrom(r.GetValue(weights)!);
            FeatureExtractor.Resolve(net, blobNames);
            Run(net, blobNames, datasetNames, numBatches, type);
            Log.Info("Successfully extracted the features!");
            return 0;
        }));
        return command;
    }

    /// <summary>Extracts and writes; outputs appear only when complete (npy by rename, LMDB by its final meta pages, LevelDB by its CURRENT file).</summary>
    internal static void Run(Net net, string[] blobNames, string[] datasetNames, int numBatches, string type)
    {
        foreach (string name in datasetNames)
        {
            Log.Info($"Opening dataset {name}");
        }
        var lmdbs = type is "lmdb" or "leveldb" ? datasetNames.Select(n => KeyValueDb.Create(n, KeyValueDb.ParseBackend(type))).ToArray() : null;
        var npys = new NpyWriter?[blobNames.Length];
        var indices = new int[blobNames.Length];
        try
        {
            Log.Info("Extracting Features");
            using var bar = Progress.Start("extract_features", numBatches);
            FeatureExtractor.Extract(net, blobNames, numBatches, (batch, blobs) =>
            {
                for (int i = 0; i < blobs.Count; i++)
                {
                    var blob = blobs[i];
                    int num = blob.NumAxes > 0 ? blob.Shape[0] : 1;
                    int dim = num > 0 ? blob.Count / num : 0;
                    if (lmdbs != null)
                    {
                        var datum = new Datum { Channels = blob.Channels, Height = blob.Height, Width = blob.Width };
                        for (int n = 0; n < num; n++)
                        {
                            datum.FloatData.Clear();
                            datum.FloatData.AddRange(blob.Data.Slice(n * dim, dim).ToArray());
                            lmdbs[i].Put(indices[i].ToString("D10", CultureInfo.InvariantCulture), datum.ToByteArray());
                            indices[i]++;
                        }
                    }
                    else
                    {
                        npys[i] ??= new NpyWriter(NpyPath(datasetNames[i]), [num * numBatches, .. blob.Shape.Skip(1)]);
                        npys[i]!.Append(blob.Data);
                        indices[i] += num;
                    }
                    if (batch == numBatches - 1 || indices[i] % 1000 < num)
                    {
                        Log.Info($"Extracted features of {indices[i]} query images for feature blob {blobNames[i]}");
                    }
                }
                bar?.Report(batch + 1);
            });
            foreach (var db in lmdbs ?? [])
            {
                db.Complete();
            }
            foreach (var npy in npys)
            {
                npy?.Complete();
            }
        }
        finally
        {
            foreach (var npy in npys)
            {
                npy?.Dispose();
            }
            foreach (var db in lmdbs ?? [])
            {
                db.Dispose();
            }
        }
    }

    internal static string NpyPath(string name) => name.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? name : name + ".npy";

    private static string[] Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
