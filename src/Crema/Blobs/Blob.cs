using System.Text;
using Crema.Proto;

namespace Crema;

/// <summary>
/// An N-D float32 array holding values (<see cref="Data"/>) and gradients (<see cref="Diff"/>), as Caffe's Blob.
/// Storage is row-major, 64-byte aligned; <see cref="Reshape(ReadOnlySpan{int})"/> reallocates only when the count outgrows capacity.
/// Dispose frees the native memory now (a buffer shared with other blobs lives until its last holder lets go).
/// </summary>
public sealed class Blob : IDisposable
{
    public const int MaxAxes = 32;

    private int[] _shape = [];
    // Allocated on first use, as Caffe's SyncedMemory: a blob whose diff (or data) is never touched costs no memory
    // (solver scratch blobs, the diffs of inference nets).
    private FloatBuffer? _data;
    private FloatBuffer? _diff;
    private long _capacity;
    private bool _disposed;

    public Blob() : this(ReadOnlySpan<int>.Empty) { }

    public Blob(params int[] shape) : this((ReadOnlySpan<int>)shape) { }

    public Blob(ReadOnlySpan<int> shape)
    {
        Reshape(shape);
    }

    /// <summary>An optional name (set by the Net) used in error messages.</summary>
    public string Name { get; set; } = "";

    public IReadOnlyList<int> Shape => _shape;

    public int NumAxes => _shape.Length;

    public int Count { get; private set; } = 1;

    public Span<float> Data => DataBuffer.Span[..Count];

    public Span<float> Diff => DiffBuffer.Span[..Count];

    /// <summary>The storage behind <see cref="Data"/>, for kernels that want the raw aligned pointer.</summary>
    public FloatBuffer DataBuffer => _data ?? Allocate(ref _data);

    public FloatBuffer DiffBuffer => _diff ?? Allocate(ref _diff);

    /// <summary>Whether data / diff memory has been allocated yet (it is on first use).</summary>
    internal bool HasData => _data is not null;

    internal bool HasDiff => _diff is not null;

    // Parallel kernel parts may touch a fresh blob at once: the first buffer published wins, the others are freed.
    private FloatBuffer Allocate(ref FloatBuffer? field)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var fresh = new FloatBuffer(_capacity);
        var winner = Interlocked.CompareExchange(ref field, fresh, null);
        if (winner is null)
        {
            return fresh;
        }
        fresh.Dispose();
        return winner;
    }

    public int ShapeAt(int axis) => _shape[CanonicalAxis(axis)];

    /// <summary>Maps a possibly negative axis (-1 = last) to [0, NumAxes).</summary>
    public int CanonicalAxis(int axis)
    {
        if (axis < -NumAxes || axis >= NumAxes)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} out of range for blob {Describe()} with {NumAxes} axes");
        }
        return axis < 0 ? axis + NumAxes : axis;
    }

    /// <summary>Product of the dimensions in [start, end).</summary>
    public int CountRange(int start, int end)
    {
        long n = 1;
        for (int i = start; i < end; i++)
        {
            n *= _shape[i];
        }
        return checked((int)n);
    }

    public int CountFrom(int start) => CountRange(start, NumAxes);

    // Legacy 4-D accessors: missing leading/trailing axes read as 1, as Caffe's LegacyShape.
    public int Num => LegacyShape(0);
    public int Channels => LegacyShape(1);
    public int Height => LegacyShape(2);
    public int Width => LegacyShape(3);

    public int LegacyShape(int index)
    {
        if (NumAxes > 4)
        {
            throw new InvalidOperationException($"blob {Describe()} has more than 4 axes; legacy accessors need <= 4");
        }
        if (index >= NumAxes || index < -NumAxes)
        {
            return 1;
        }
        return ShapeAt(index);
    }

    public int Offset(int n, int c = 0, int h = 0, int w = 0) => ((n * Channels + c) * Height + h) * Width + w;

    public int Offset(ReadOnlySpan<int> indices)
    {
        int offset = 0;
        for (int i = 0; i < NumAxes; i++)
        {
            offset *= _shape[i];
            if (i < indices.Length)
            {
                offset += indices[i];
            }
        }
        return offset;
    }

    public void Reshape(params int[] shape) => Reshape((ReadOnlySpan<int>)shape);

    public void Reshape(IReadOnlyList<int> shape)
    {
        if (shape is int[] array)
        {
            Reshape((ReadOnlySpan<int>)array);
            return;
        }
        Span<int> dims = shape.Count <= MaxAxes ? stackalloc int[shape.Count] : new int[shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = shape[i];
        }
        Reshape(dims);
    }

    public void Reshape(ReadOnlySpan<int> shape)
    {
        if (shape.Length > MaxAxes)
        {
            throw new ArgumentException($"blob {Describe()}: {shape.Length} axes exceeds the maximum of {MaxAxes}");
        }
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"blob {Describe()}: negative dimension in shape ({string.Join(", ", shape.ToArray())})");
            }
            count *= d;
            if (count > int.MaxValue)
            {
                throw new ArgumentException($"blob {Describe()}: shape ({string.Join(", ", shape.ToArray())}) has more than {int.MaxValue} elements");
            }
        }
        if (!shape.SequenceEqual(_shape))
        {
            _shape = shape.ToArray();
        }
        Count = (int)count;
        if (count > _capacity)
        {
            _capacity = count;
            Drop(ref _data);
            Drop(ref _diff);
        }
    }

    public void Reshape(BlobShape shape)
    {
        var dims = new int[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long d = shape.Dim[i];
            if (d is < 0 or > int.MaxValue)
            {
                throw new ArgumentException($"blob {Describe()}: dimension {d} out of range");
            }
            dims[i] = (int)d;
        }
        Reshape(dims);
    }

    public void ReshapeLike(Blob other) => Reshape(other._shape);

    public bool ShapeEquals(Blob other) => _shape.AsSpan().SequenceEqual(other._shape);

    /// <summary>Makes this blob's data the same memory as <paramref name="other"/>'s (counts must match).</summary>
    public void ShareData(Blob other)
    {
        CheckSameCount(other);
        Share(ref _data, other.DataBuffer);
    }

    public void ShareDiff(Blob other)
    {
        CheckSameCount(other);
        Share(ref _diff, other.DiffBuffer);
    }

    // Split and Flatten share again on every Reshape: the same buffer costs nothing.
    private static void Share(ref FloatBuffer? field, FloatBuffer buffer)
    {
        if (!ReferenceEquals(field, buffer))
        {
            Interlocked.Exchange(ref field, buffer.Retain())?.Release();
        }
    }

    private static void Drop(ref FloatBuffer? field) => Interlocked.Exchange(ref field, null)?.Release();

    /// <summary>Frees this blob's data and diff (memory shared with other blobs stays theirs); using the blob afterwards throws.</summary>
    public void Dispose()
    {
        _disposed = true;
        Drop(ref _data);
        Drop(ref _diff);
    }

    private void CheckSameCount(Blob other)
    {
        if (Count != other.Count)
        {
            throw new ArgumentException($"cannot share blob {other.Describe()} with {Describe()}: counts differ");
        }
    }

    /// <summary>Caffe's Update: data -= diff.</summary>
    public void Update()
    {
        System.Numerics.Tensors.TensorPrimitives.Subtract(Data, Diff, Data);
    }

    public float AsumData() => System.Numerics.Tensors.TensorPrimitives.SumOfMagnitudes((ReadOnlySpan<float>)Data);
    public float AsumDiff() => System.Numerics.Tensors.TensorPrimitives.SumOfMagnitudes((ReadOnlySpan<float>)Diff);
    public float SumSquareData() => System.Numerics.Tensors.TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)Data);
    public float SumSquareDiff() => System.Numerics.Tensors.TensorPrimitives.SumOfSquares((ReadOnlySpan<float>)Diff);

    public void ScaleData(float factor) => System.Numerics.Tensors.TensorPrimitives.Multiply(Data, factor, Data);
    public void ScaleDiff(float factor) => System.Numerics.Tensors.TensorPrimitives.Multiply(Diff, factor, Diff);

    public void CopyFrom(Blob source, bool copyDiff = false, bool reshape = false)
    {
        if (source.Count != Count || !source.ShapeEquals(this))
        {
            if (!reshape)
            {
                throw new ArgumentException($"cannot copy blob {source.Describe()} into {Describe()}: shapes differ");
            }
            ReshapeLike(source);
        }
        if (copyDiff)
        {
            source.Diff.CopyTo(Diff);
        }
        else
        {
            source.Data.CopyTo(Data);
        }
    }

    public string ShapeString()
    {
        var sb = new StringBuilder();
        foreach (int d in _shape)
        {
            sb.Append(d).Append(' ');
        }
        sb.Append('(').Append(Count).Append(')');
        return sb.ToString();
    }

    private string Describe() => string.IsNullOrEmpty(Name) ? $"({string.Join(",", _shape)})" : $"'{Name}' ({string.Join(",", _shape)})";

    /// <summary>True when <paramref name="proto"/>'s shape (new or legacy 4-D form) equals this blob's.</summary>
    public bool ShapeEquals(BlobProto proto) => ProtoShape(proto).AsSpan().SequenceEqual(_shape);

    /// <summary>The shape a BlobProto declares: its BlobShape, or the legacy num/channels/height/width.</summary>
    public static int[] ProtoShape(BlobProto proto)
    {
        if (proto.Shape != null)
        {
            return proto.Shape.Dim.Select(d => d is < 0 or > int.MaxValue
                ? throw new ArgumentException($"dimension {d} out of range (0 to {int.MaxValue})") : (int)d).ToArray();
        }
        if (proto.HasNum || proto.HasChannels || proto.HasHeight || proto.HasWidth)
        {
            return [proto.Num, proto.Channels, proto.Height, proto.Width];
        }
        // Caffe writes a 0-axis blob (a scalar such as PReLU's channel_shared slope) with neither shape nor legacy dims.
        return [];
    }

    public void FromProto(BlobProto proto, bool reshape = true)
    {
        int[] shape = ProtoShape(proto);
        if (reshape)
        {
            Reshape(shape);
        }
        else if (!shape.AsSpan().SequenceEqual(_shape))
        {
            // Caffe accepts a legacy 4-D proto whose shape matches after padding with leading 1s.
            if (!LegacyEquivalent(shape, _shape))
            {
                throw new ArgumentException($"shape mismatch for blob {Describe()}: file has ({string.Join(", ", shape)}), net expects ({string.Join(", ", _shape)})");
            }
        }
        var data = Data;
        if (proto.DoubleData.Count > 0)
        {
            CheckLength(proto.DoubleData.Count, "double_data");
            for (int i = 0; i < Count; i++)
            {
                data[i] = (float)proto.DoubleData[i];
            }
        }
        else
        {
            // As Caffe: no data at all is an error too, not a silent keep-the-random-init.
            CheckLength(proto.Data.Count, "data");
            for (int i = 0; i < Count; i++)
            {
                data[i] = proto.Data[i];
            }
        }
        var diff = Diff;
        if (proto.DoubleDiff.Count > 0)
        {
            CheckLength(proto.DoubleDiff.Count, "double_diff");
            for (int i = 0; i < Count; i++)
            {
                diff[i] = (float)proto.DoubleDiff[i];
            }
        }
        else if (proto.Diff.Count > 0)
        {
            CheckLength(proto.Diff.Count, "diff");
            for (int i = 0; i < Count; i++)
            {
                diff[i] = proto.Diff[i];
            }
        }
    }

    private static bool LegacyEquivalent(int[] a, int[] b)
    {
        static int[] Pad(int[] s) => s.Length >= 4 ? s : [.. Enumerable.Repeat(1, 4 - s.Length), .. s];
        return a.Length <= 4 && b.Length <= 4 && Pad(a).AsSpan().SequenceEqual(Pad(b));
    }

    private void CheckLength(int length, string field)
    {
        if (length != Count)
        {
            throw new ArgumentException($"blob {Describe()}: proto has {length} values in '{field}', shape needs {Count}");
        }
    }

    public BlobProto ToProto(bool writeDiff = false)
    {
        var proto = new BlobProto { Shape = new BlobShape() };
        foreach (int d in _shape)
        {
            proto.Shape.Dim.Add(d);
        }
        proto.Data.AddRange(Data.ToArray());
        if (writeDiff)
        {
            proto.Diff.AddRange(Diff.ToArray());
        }
        return proto;
    }

    public override string ToString() => $"Blob {Describe()}";
}
