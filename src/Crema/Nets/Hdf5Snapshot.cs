using PureHDF;

namespace Crema.Nets;

/// <summary>
/// HDF5 pieces of Caffe's snapshot format (util/hdf5.cpp): blobs as float32 datasets of the blob's shape, ints as
/// scalar datasets, strings as fixed-length scalars; files are written to a temporary name, then renamed.
/// </summary>
public static class Hdf5Snapshot
{
    /// <summary>A dataset holding <paramref name="blob"/>'s data (or diff) with the blob's shape.</summary>
    public static H5Dataset BlobDataset(Blob blob, bool diff = false)
    {
        float[] values = (diff ? blob.Diff : blob.Data).ToArray();
        ulong[] dims = blob.Shape.Select(d => (ulong)d).ToArray();
        return new H5Dataset(values, fileDims: dims);
    }

    /// <summary>Writes <paramref name="file"/> to <paramref name="path"/> via &lt;path&gt;.tmp, so a failure never leaves a half-written file.</summary>
    public static void WriteAtomic(H5File file, string path, int stringLength = 0)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new CremaException($"Cannot write '{path}': folder '{folder}' does not exist");
        }
        string tmp = full + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                file.Write(stream, new H5WriteOptions(DefaultStringLength: stringLength));
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is not CremaException)
        {
            TryDelete(tmp);
            throw new CremaException($"Cannot write '{path}': {Describe(e)}", e);
        }
    }

    /// <summary>Opens an HDF5 file for reading, turning "missing" and "not HDF5" into messages that name the file.</summary>
    public static PureHDF.VOL.Native.NativeFile Open(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CremaException($"{path}: {what} not found");
        }
        try
        {
            Data.Hdf5LinkGuard.Check(path);
            return H5File.OpenRead(path);
        }
        catch (Exception e) when (e is not CremaException)
        {
            throw new CremaException($"{path}: not a valid HDF5 {what}: {e.Message}", e);
        }
    }

    /// <summary>Reads dataset <paramref name="name"/> of <paramref name="group"/> into <paramref name="blob"/>, whose shape must match.</summary>
    public static void ReadBlob(IH5Group group, string name, Blob blob, string where)
    {
        var dataset = group.Dataset(name);
        int[] shape = dataset.Space.Dimensions.Select(d => checked((int)d)).ToArray();
        if (!shape.AsSpan().SequenceEqual(blob.Shape.ToArray()))
        {
            throw new CremaException($"{where}: shape mismatch: file has {string.Join(' ', shape)} ({shape.Aggregate(1L, (a, d) => a * d)}), target blob has {blob.ShapeString()}");
        }
        var type = dataset.Type;
        float[] values = (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 4) => dataset.Read<float[]>(),
            (H5DataTypeClass.FloatingPoint, 8) => Array.ConvertAll(dataset.Read<double[]>(), v => (float)v),
            _ => throw new CremaException($"{where}: dataset has type {type.Class} of {type.Size} bytes; expected float or double"),
        };
        values.CopyTo(blob.Data);
    }

    /// <summary>Reads a scalar (or one-element) integer dataset.</summary>
    public static int ReadInt(IH5Group group, string name) => group.Dataset(name).Read<int>();

    /// <summary>Reads a string dataset (fixed or variable length).</summary>
    public static string ReadString(IH5Group group, string name) => group.Dataset(name).Read<string>().TrimEnd('\0');

    /// <summary>The names of the children of <paramref name="group"/>.</summary>
    public static List<string> ChildNames(IH5Group group) => group.Children().Select(c => c.Name).ToList();

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original error matters more than a leftover temporary file.
        }
    }

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException => "file not found",
        DirectoryNotFoundException => "folder not found",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };
}
