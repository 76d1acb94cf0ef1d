using PureHDF;

namespace Crema.Data;

/// <summary>Reads numeric HDF5 datasets as float32 (Caffe's hdf5_load_nd_dataset), whatever their stored number type.</summary>
public static class Hdf5Datasets
{
    /// <summary>Reads dataset <paramref name="name"/> of the file at <paramref name="path"/>: its values as floats and its shape.</summary>
    public static (float[] Values, int[] Shape) ReadFloats(string path, string name)
    {
        if (!File.Exists(path))
        {
            throw new CremaException($"HDF5 file '{path}' not found");
        }
        try
        {
            Hdf5LinkGuard.Check(path);
            using var file = H5File.OpenRead(path);
            return ReadFloats(file, path, name);
        }
        catch (Exception e) when (e is not CremaException)
        {
            throw new CremaException($"cannot read dataset '{name}' from HDF5 file '{path}': {e.Message}", e);
        }
    }

    private static (float[] Values, int[] Shape) ReadFloats(IH5Group file, string path, string name)
    {
        if (!file.LinkExists(name) || file.Get(name) is not IH5Dataset dataset)
        {
            throw new CremaException($"HDF5 file '{path}' has no dataset '{name}'");
        }
        int[] shape = dataset.Space.Dimensions.Select(d => checked((int)d)).ToArray();
        var type = dataset.Type;
        long count = shape.Aggregate(1L, (a, d) => checked(a * d));
        // Deflate expands at most ~1032:1, so a dataset declaring more bytes than that over the whole file is not in
        // it: the missing chunks would read as fill values, which takes PureHDF minutes for a few hundred MB.
        long fileBytes = new FileInfo(path).Length;
        if (checked(count * type.Size) > (1100 * fileBytes) + (1 << 20))
        {
            throw new CremaException($"HDF5 dataset '{name}' in '{path}' declares {string.Join('×', shape)} values of {type.Size} bytes, more than a {fileBytes}-byte file can hold");
        }
        try
        {
            MemoryGuard.CheckAllocation(count * sizeof(float));
        }
        catch (MemoryLimitException e)
        {
            throw new MemoryLimitException($"HDF5 dataset '{name}' in '{path}' ({string.Join('×', shape)}): {e.Message}", e);
        }
        float[] values = (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 4) => dataset.Read<float[]>(),
            (H5DataTypeClass.FloatingPoint, 8) => Array.ConvertAll(dataset.Read<double[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 1) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<sbyte[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 1) => Array.ConvertAll(dataset.Read<byte[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 2) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<short[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 2) => Array.ConvertAll(dataset.Read<ushort[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 4) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<int[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 4) => Array.ConvertAll(dataset.Read<uint[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 8) when type.FixedPoint.IsSigned => Array.ConvertAll(dataset.Read<long[]>(), v => (float)v),
            (H5DataTypeClass.FixedPoint, 8) => Array.ConvertAll(dataset.Read<ulong[]>(), v => (float)v),
            _ => throw new CremaException($"HDF5 dataset '{name}' in '{path}' has type {type.Class} of {type.Size} bytes; only integers and floats can be read"),
        };
        return (values, shape);
    }
}
