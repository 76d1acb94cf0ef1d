using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Crema.Data;

/// <summary>
/// Reads one LevelDB table file (.ldb, or .sst from LevelDB before 1.14): a 48-byte footer pointing at the index block,
/// whose entries point at the data blocks. Every block is followed by a type byte (none or Snappy) and a masked
/// CRC32C; entries inside a block share key prefixes with their predecessor, restarting every few entries.
/// </summary>
internal sealed class LevelDbTable : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly Func<string, Exception> _corrupt;
    private readonly long _length;

    private LevelDbTable(string path, SafeFileHandle file, long length, Func<string, Exception> corrupt)
    {
        Path = path;
        _file = file;
        _length = length;
        _corrupt = corrupt;
    }

    public string Path { get; }

    /// <summary>The data blocks' (offset, size), in key order.</summary>
    public List<(long Offset, int Size)> DataBlocks { get; } = [];

    /// <param name="path">The table file (.ldb or .sst).</param>
    /// <param name="corrupt">Makes the exception for a damaged table; it is given the detail (the file name is added here).</param>
    public static LevelDbTable Open(string path, Func<string, Exception> corrupt)
    {
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw corrupt($"table {System.IO.Path.GetFileName(path)} cannot be opened: {e.Message}");
        }
        var table = new LevelDbTable(path, file, RandomAccess.GetLength(file), detail => corrupt($"{System.IO.Path.GetFileName(path)}: {detail}"));
        try
        {
            table.ReadIndex();
            return table;
        }
        catch
        {
            table.Dispose();
            throw;
        }
    }

    private void ReadIndex()
    {
        if (_length < LevelDbFormat.FooterSize)
        {
            throw _corrupt($"file has {_length} bytes, too short for a table footer");
        }
        var footer = new byte[LevelDbFormat.FooterSize];
        RandomAccess.Read(_file, footer, _length - LevelDbFormat.FooterSize);
        if (BinaryPrimitives.ReadUInt64LittleEndian(footer.AsSpan(LevelDbFormat.FooterSize - 8)) != LevelDbFormat.TableMagic)
        {
            throw _corrupt("bad table magic number (not a LevelDB table, or truncated)");
        }
        int pos = 0;
        ReadHandle(footer, ref pos, "metaindex handle");
        var index = ReadHandle(footer, ref pos, "index handle");
        foreach (var (_, value) in ReadEntries(ReadBlock(index.Offset, index.Size)))
        {
            int p = 0;
            DataBlocks.Add(ReadHandle(value, ref p, "data block handle"));
        }
    }

    private (long Offset, int Size) ReadHandle(ReadOnlySpan<byte> data, ref int pos, string what)
    {
        if (!LevelDbFormat.TryReadVarint(data, ref pos, out ulong offset) || !LevelDbFormat.TryReadVarint(data, ref pos, out ulong size))
        {
            throw _corrupt($"bad {what}");
        }
        if (offset > (ulong)_length || size > (ulong)_length - offset || size + LevelDbFormat.BlockTrailerSize > (ulong)_length - offset)
        {
            throw _corrupt($"{what} ({offset}, {size}) points past the end of the file ({_length} bytes)");
        }
        return ((long)offset, (int)size);
    }

    /// <summary>A block's contents after its CRC is checked and it is decompressed.</summary>
    public byte[] ReadBlock(long offset, int size)
    {
        var raw = new byte[size + LevelDbFormat.BlockTrailerSize];
        if (RandomAccess.Read(_file, raw, offset) != raw.Length)
        {
            throw _corrupt($"block at byte {offset} is cut short");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(size + 1));
        if (LevelDbFormat.Unmask(stored) != LevelDbFormat.Crc32C(raw.AsSpan(0, size + 1)))
        {
            throw _corrupt($"checksum mismatch in the block at byte {offset}");
        }
        byte type = raw[size];
        switch (type)
        {
            case LevelDbFormat.NoCompression:
                return raw.AsSpan(0, size).ToArray();
            case LevelDbFormat.SnappyCompression:
                try
                {
                    return IronSnappy.Snappy.Decode(raw.AsSpan(0, size));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw _corrupt($"block at byte {offset} is not valid Snappy data ({e.Message})");
                }
            default:
                throw _corrupt($"block at byte {offset} has compression type {type} (only none and Snappy are supported)");
        }
    }

    /// <summary>The (key, value) entries of a block in order, undoing the prefix compression.</summary>
    public List<(byte[] Key, byte[] Value)> ReadEntries(byte[] block)
    {
        if (block.Length < 4)
        {
            throw _corrupt("block shorter than its restart count");
        }
        int restarts = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(block.Length - 4)), int.MaxValue);
        long end = block.Length - 4 - (4L * restarts);
        if (end < 0)
        {
            throw _corrupt($"block claims {restarts} restart points, more than fit in its {block.Length} bytes");
        }
        var entries = new List<(byte[], byte[])>();
        var span = block.AsSpan(0, (int)end);
        byte[] previous = [];
        int pos = 0;
        while (pos < span.Length)
        {
            if (!LevelDbFormat.TryReadVarint(span, ref pos, out ulong shared) || !LevelDbFormat.TryReadVarint(span, ref pos, out ulong unshared)
                || !LevelDbFormat.TryReadVarint(span, ref pos, out ulong valueLength))
            {
                throw _corrupt("bad entry header in a block");
            }
            ulong left = (ulong)(span.Length - pos);
            if (shared > (ulong)previous.Length || unshared > left || valueLength > left - unshared)
            {
                throw _corrupt($"block entry (shared {shared}, key {unshared}, value {valueLength}) runs past its block");
            }
            var key = new byte[(int)shared + (int)unshared];
            previous.AsSpan(0, (int)shared).CopyTo(key);
            span.Slice(pos, (int)unshared).CopyTo(key.AsSpan((int)shared));
            pos += (int)unshared;
            entries.Add((key, span.Slice(pos, (int)valueLength).ToArray()));
            pos += (int)valueLength;
            previous = key;
        }
        return entries;
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// Builds a LevelDB table from internal keys in ascending order: ~4 KiB data blocks with a restart point every 16
/// entries, Snappy-compressed when that saves at least an eighth (as LevelDB decides), an index block keyed by each
/// block's last key, an empty metaindex block and the footer.
/// </summary>
internal sealed class LevelDbTableBuilder
{
    private const int BlockSize = 4096;
    private const int RestartInterval = 16;

    private readonly Stream _output;
    private readonly BlockBuilder _data = new(RestartInterval);
    private readonly BlockBuilder _index = new(1);
    private byte[]? _lastKey;
    private long _offset;

    public LevelDbTableBuilder(Stream output) => _output = output;

    public long FileSize => _offset;

    public bool IsEmpty => _lastKey == null;

    public void Add(byte[] internalKey, ReadOnlySpan<byte> value)
    {
        _data.Add(internalKey, value);
        _lastKey = internalKey;
        if (_data.Size >= BlockSize)
        {
            FlushData();
        }
    }

    /// <summary>Rough size the table will have when finished (for splitting output into files).</summary>
    public long EstimatedSize => _offset + _data.Size;

    public void Finish()
    {
        if (!_data.IsEmpty)
        {
            FlushData();
        }
        var meta = WriteBlock(new BlockBuilder(1).Finish(), compress: false);
        var index = WriteBlock(_index.Finish(), compress: false);
        var footer = new List<byte>();
        LevelDbFormat.WriteVarint(footer, (ulong)meta.Offset);
        LevelDbFormat.WriteVarint(footer, (ulong)meta.Size);
        LevelDbFormat.WriteVarint(footer, (ulong)index.Offset);
        LevelDbFormat.WriteVarint(footer, (ulong)index.Size);
        var bytes = new byte[LevelDbFormat.FooterSize];
        footer.CopyTo(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(LevelDbFormat.FooterSize - 8), LevelDbFormat.TableMagic);
        _output.Write(bytes);
        _offset += bytes.Length;
    }

    private void FlushData()
    {
        var handle = WriteBlock(_data.Finish(), compress: true);
        _data.Reset();
        var value = new List<byte>();
        LevelDbFormat.WriteVarint(value, (ulong)handle.Offset);
        LevelDbFormat.WriteVarint(value, (ulong)handle.Size);
        _index.Add(_lastKey!, [.. value]);
    }

    private (long Offset, int Size) WriteBlock(byte[] contents, bool compress)
    {
        byte type = LevelDbFormat.NoCompression;
        if (compress)
        {
            var packed = IronSnappy.Snappy.Encode(contents);
            if (packed.Length < contents.Length - (contents.Length / 8))
            {
                contents = packed;
                type = LevelDbFormat.SnappyCompression;
            }
        }
        long offset = _offset;
        Span<byte> trailer = stackalloc byte[LevelDbFormat.BlockTrailerSize];
        trailer[0] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[1..], LevelDbFormat.Mask(LevelDbFormat.Crc32C(contents, trailer[..1])));
        _output.Write(contents);
        _output.Write(trailer);
        _offset += contents.Length + LevelDbFormat.BlockTrailerSize;
        return (offset, contents.Length);
    }

    /// <summary>One block: prefix-compressed entries, then the restart offsets and their count (fixed32 each).</summary>
    private sealed class BlockBuilder(int restartInterval)
    {
        private readonly List<byte> _buffer = [];
        private readonly List<int> _restarts = [0];
        private byte[] _last = [];
        private int _counter;

        public int Size => _buffer.Count + (4 * _restarts.Count) + 4;

        public bool IsEmpty => _buffer.Count == 0;

        public void Add(byte[] key, ReadOnlySpan<byte> value)
        {
            int shared = 0;
            if (_counter < restartInterval)
            {
                int max = Math.Min(_last.Length, key.Length);
                while (shared < max && _last[shared] == key[shared])
                {
                    shared++;
                }
            }
            else
            {
                _restarts.Add(_buffer.Count);
                _counter = 0;
            }
            LevelDbFormat.WriteVarint(_buffer, (ulong)shared);
            LevelDbFormat.WriteVarint(_buffer, (ulong)(key.Length - shared));
            LevelDbFormat.WriteVarint(_buffer, (ulong)value.Length);
            _buffer.AddRange(key.AsSpan(shared));
            _buffer.AddRange(value);
            _last = key;
            _counter++;
        }

        public byte[] Finish()
        {
            var block = new byte[Size];
            _buffer.CopyTo(block);
            int pos = _buffer.Count;
            foreach (int r in _restarts)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(pos), (uint)r);
                pos += 4;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(pos), (uint)_restarts.Count);
            return block;
        }

        public void Reset()
        {
            _buffer.Clear();
            _restarts.Clear();
            _restarts.Add(0);
            _last = [];
            _counter = 0;
        }
    }
}
