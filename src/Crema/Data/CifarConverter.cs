using System.Globalization;
using Crema.Proto;
using Google.Protobuf;

namespace Crema.Data;

/// <summary>
/// Caffe's examples/cifar10 convert_cifar_data: the CIFAR-10 binary batches (records of 1 label byte + 3072 pixel
/// bytes, 3 planes of 32×32 in R, G, B order) → OUTPUT/cifar10_train_BACKEND from data_batch_1..5.bin and
/// OUTPUT/cifar10_test_BACKEND from test_batch.bin, Datum records 3×32×32 keyed "%05d" by running index.
/// </summary>
public static class CifarConverter
{
    public const int Size = 32;
    public const int ImageBytes = 3 * Size * Size;
    public const int RecordBytes = 1 + ImageBytes;
    public const int TrainBatches = 5;

    /// <summary>Converts; <paramref name="log"/> gets Caffe's progress lines. Returns the train and test record counts.</summary>
    /// <remarks>The real batches hold 10,000 records each; any whole number of records is accepted (small test batches).</remarks>
    public static (int Train, int Test) Convert(string inputFolder, string outputFolder, DbBackend backend, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(inputFolder);
        ArgumentNullException.ThrowIfNull(outputFolder);
        string suffix = KeyValueDb.Name(backend);
        var trainFiles = Enumerable.Range(1, TrainBatches).Select(i => Path.Combine(inputFolder, $"data_batch_{i}.bin")).ToArray();
        string testFile = Path.Combine(inputFolder, "test_batch.bin");
        foreach (string f in trainFiles.Append(testFile))
        {
            // Check every input before writing anything, so a missing batch leaves no half-made database behind.
            RecordCount(f);
        }
        Directory.CreateDirectory(outputFolder);
        log?.Invoke("Writing Training data");
        int train = Write(trainFiles, Path.Combine(outputFolder, "cifar10_train_" + suffix), backend, log, "Training Batch ");
        log?.Invoke("Writing Testing data");
        int test = Write([testFile], Path.Combine(outputFolder, "cifar10_test_" + suffix), backend, null, "");
        return (train, test);
    }

    private static int Write(string[] files, string dbPath, DbBackend backend, Action<string>? log, string what)
    {
        using var writer = KeyValueDb.Create(dbPath, backend);
        var datum = new Datum { Channels = 3, Height = Size, Width = Size };
        int index = 0;
        for (int f = 0; f < files.Length; f++)
        {
            log?.Invoke(what + (f + 1).ToString(CultureInfo.InvariantCulture));
            byte[] bytes = File.ReadAllBytes(files[f]);
            for (int offset = 0; offset + RecordBytes <= bytes.Length; offset += RecordBytes)
            {
                // Caffe reads the label as a (signed) char; CIFAR-10 labels are 0..9.
                datum.Label = (sbyte)bytes[offset];
                datum.Data = ByteString.CopyFrom(bytes, offset + 1, ImageBytes);
                writer.Put(index.ToString("D5", CultureInfo.InvariantCulture), datum.ToByteArray());
                index++;
            }
        }
        writer.Complete();
        return index;
    }

    private static int RecordCount(string file)
    {
        if (!File.Exists(file))
        {
            throw new CremaException($"CIFAR-10 batch '{file}' not found (the input folder must hold data_batch_1..5.bin and test_batch.bin, the binary version)");
        }
        long length = new FileInfo(file).Length;
        if (length == 0 || length % RecordBytes != 0)
        {
            throw new CremaException($"CIFAR-10 batch '{file}' has {length} bytes, not a whole number of {RecordBytes}-byte records (1 label + 3×32×32 pixels; CIFAR-100's 2-label format is not this)");
        }
        return (int)(length / RecordBytes);
    }
}
