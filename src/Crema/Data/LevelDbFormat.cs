using System.Buffers.Binary;
using System.Numerics;

namespace Crema.Data;

/// <summary>
/// Pieces of LevelDB's on-disk format (LevelDB 1.x, as written by Caffe's converters and plyvel): masked CRC32C,
/// varints, the 32 KiB-block log format (used by the .log write-ahead log and the MANIFEST), WriteBatch records and
/// VersionEdit records.
/// </summary>
internal static class LevelDbFormat
{
    public const string BytewiseComparator = "leveldb.BytewiseComparator";
    public const int LogBlockSize = 32768;
    public const int LogHeaderSize = 7;
    public const byte TypeDeletion = 0;
    public const byte TypeValue = 1;
    public const int BlockTrailerSize = 5;
    public const int FooterSize = 48;
    public const ulong TableMagic = 0xdb4775248b80fb57UL;
    public const byte NoCompression = 0;
    public const byte SnappyCompression = 1;

    // Log record types: a record that fits in the rest of a block is FULL, a longer one is FIRST, MIDDLE…, LAST.
    public const byte RecordFull = 1;
    public const byte RecordFirst = 2;
    public const byte RecordMiddle = 3;
    public const byte RecordLast = 4;

    // VersionEdit field tags.
    public const int TagComparator = 1;
    public const int TagLogNumber = 2;
    public const int TagNextFileNumber = 3;
    public const int TagLastSequence = 4;
    public const int TagCompactPointer = 5;
    public const int TagDeletedFile = 6;
    public const int TagNewFile = 7;
    public const int TagPrevLogNumber = 9;

    private const uint MaskDelta = 0xa282ead8u;

    /// <summary>CRC-32C (Castagnoli) with the usual pre- and post-inversion, as LevelDB's crc32c::Value.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data) => ~Crc32CUpdate(0xffffffffu, data);

    /// <summary>CRC-32C of two spans in a row (type byte after block contents, or before record data).</summary>
    public static uint Crc32C(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) =>
        ~Crc32CUpdate(Crc32CUpdate(0xffffffffu, first), second);

    // The running (uninverted) CRC after data: 8 bytes per instruction, then the tail byte by byte.
    private static uint Crc32CUpdate(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }
        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }
        return crc;
    }

    /// <summary>LevelDB stores CRCs rotated and offset, so that a CRC of data holding CRCs stays well distributed.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    public static uint Unmask(uint masked)
    {
        uint rot = masked - MaskDelta;
        return (rot >> 17) | (rot << 15);
    }

    /// <summary>Reads a base-128 varint (at most 64 bits); false when the input ends or the varint is over 10 bytes.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift <= 63 && pos < data.Length; shift += 7)
        {
            byte b = data[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }

    public static void WriteVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }

    public static void WriteLengthPrefixed(List<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteVarint(output, (ulong)bytes.Length);
        foreach (byte b in bytes)
        {
            output.Add(b);
        }
    }

    /// <summary>An internal key: the user key followed by (sequence &lt;&lt; 8 | type) as a little-endian fixed64.</summary>
    public static byte[] InternalKey(ReadOnlySpan<byte> userKey, ulong sequence, byte type)
    {
        var key = new byte[userKey.Length + 8];
        userKey.CopyTo(key);
        BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(userKey.Length), (sequence << 8) | type);
        return key;
    }

    /// <summary>
    /// Splits a log file (.log or MANIFEST) into its records, checking every fragment's CRC. A record cut short at the
    /// very end of the file (a writer that stopped mid-record) ends the log, as LevelDB's recovery does; anything else
    /// malformed throws through <paramref name="corrupt"/>.
    /// </summary>
    public static List<byte[]> ReadLogRecords(ReadOnlySpan<byte> file, Func<string, Exception> corrupt)
    {
        var records = new List<byte[]>();
        List<byte>? pending = null;
        long pendingStart = 0;
        int pos = 0;
        while (pos < file.Length)
        {
            int blockEnd = Math.Min(((pos / LogBlockSize) + 1) * LogBlockSize, file.Length);
            if (blockEnd - pos < LogHeaderSize)
            {
                // The trailer of a block too short for a header is zero padding.
                pos = blockEnd;
                continue;
            }
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(file[pos..]);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(file[(pos + 4)..]);
            byte type = file[pos + 6];
            if (type == 0 && length == 0)
            {
                // Zero padding (a preallocated or block-padded tail): nothing more in this block.
                pos = blockEnd;
                continue;
            }
            if (pos + LogHeaderSize + length > blockEnd)
            {
                if (blockEnd == file.Length)
                {
                    break;
                }
                throw corrupt($"log record at byte {pos} has length {length}, past the end of its 32 KiB block");
            }
            var data = file.Slice(pos + LogHeaderSize, length);
            if (Unmask(stored) != Crc32C(file.Slice(pos + 6, 1), data))
            {
                throw corrupt($"checksum mismatch in the log record at byte {pos}");
            }
            switch (type)
            {
                case RecordFull:
                    CheckNoPending(pending, pendingStart, corrupt);
                    records.Add(data.ToArray());
                    break;
                case RecordFirst:
                    CheckNoPending(pending, pendingStart, corrupt);
                    pending = [.. data];
                    pendingStart = pos;
                    break;
                case RecordMiddle:
                case RecordLast:
                    if (pending == null)
                    {
                        throw corrupt($"log record fragment at byte {pos} continues no record");
                    }
                    pending.AddRange(data);
                    if (type == RecordLast)
                    {
                        records.Add([.. pending]);
                        pending = null;
                    }
                    break;
                default:
                    throw corrupt($"unknown log record type {type} at byte {pos}");
            }
            pos += LogHeaderSize + length;
        }
        // A FIRST without its LAST at the end of the file is a write that never finished: dropped, as LevelDB does.
        return records;
    }

    private static void CheckNoPending(List<byte>? pending, long start, Func<string, Exception> corrupt)
    {
        if (pending != null)
        {
            throw corrupt($"log record started at byte {start} is not finished before the next one");
        }
    }

    /// <summary>Appends <paramref name="record"/> to a log stream as FULL or FIRST/MIDDLE…/LAST fragments; <paramref name="blockOffset"/> is the position in the current 32 KiB block.</summary>
    public static void WriteLogRecord(Stream output, ReadOnlySpan<byte> record, ref int blockOffset)
    {
        bool begin = true;
        Span<byte> header = stackalloc byte[LogHeaderSize];
        do
        {
            int left = LogBlockSize - blockOffset;
            if (left < LogHeaderSize)
            {
                output.Write(new byte[left]);
                blockOffset = 0;
                left = LogBlockSize;
            }
            int fragment = Math.Min(record.Length, left - LogHeaderSize);
            bool end = fragment == record.Length;
            byte type = begin && end ? RecordFull : begin ? RecordFirst : end ? RecordLast : RecordMiddle;
            var data = record[..fragment];
            BinaryPrimitives.WriteUInt32LittleEndian(header, Mask(Crc32C([type], data)));
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], (ushort)fragment);
            header[6] = type;
            output.Write(header);
            output.Write(data);
            blockOffset += LogHeaderSize + fragment;
            record = record[fragment..];
            begin = false;
        }
        while (record.Length > 0);
    }
}

/// <summary>One table file of a LevelDB version: where it sits and which internal keys it covers.</summary>
internal sealed record LevelDbFileMeta(int Level, ulong Number, ulong Size, byte[] Smallest, byte[] Largest);

/// <summary>The state a MANIFEST describes after its version edits are applied in order.</summary>
internal sealed class LevelDbVersion
{
    public string? Comparator { get; set; }

    public ulong LogNumber { get; set; }

    public ulong PrevLogNumber { get; set; }

    public ulong NextFileNumber { get; set; }

    public ulong LastSequence { get; set; }

    /// <summary>Live table files by (level, number).</summary>
    public SortedDictionary<(int Level, ulong Number), LevelDbFileMeta> Files { get; } = [];

    /// <summary>Applies one VersionEdit record.</summary>
    public void Apply(ReadOnlySpan<byte> edit, Func<string, Exception> corrupt)
    {
        int pos = 0;
        while (pos < edit.Length)
        {
            ulong tag = Varint(edit, ref pos, corrupt, "tag");
            switch (tag > int.MaxValue ? -1 : (int)tag)
            {
                case LevelDbFormat.TagComparator:
                    Comparator = System.Text.Encoding.UTF8.GetString(Bytes(edit, ref pos, corrupt, "comparator name"));
                    break;
                case LevelDbFormat.TagLogNumber:
                    LogNumber = Varint(edit, ref pos, corrupt, "log number");
                    break;
                case LevelDbFormat.TagPrevLogNumber:
                    PrevLogNumber = Varint(edit, ref pos, corrupt, "previous log number");
                    break;
                case LevelDbFormat.TagNextFileNumber:
                    NextFileNumber = Varint(edit, ref pos, corrupt, "next file number");
                    break;
                case LevelDbFormat.TagLastSequence:
                    LastSequence = Varint(edit, ref pos, corrupt, "last sequence");
                    break;
                case LevelDbFormat.TagCompactPointer:
                    Level(edit, ref pos, corrupt);
                    Bytes(edit, ref pos, corrupt, "compaction pointer");
                    break;
                case LevelDbFormat.TagDeletedFile:
                {
                    int level = Level(edit, ref pos, corrupt);
                    ulong number = Varint(edit, ref pos, corrupt, "deleted file number");
                    Files.Remove((level, number));
                    break;
                }
                case LevelDbFormat.TagNewFile:
                {
                    int level = Level(edit, ref pos, corrupt);
                    ulong number = Varint(edit, ref pos, corrupt, "file number");
                    ulong size = Varint(edit, ref pos, corrupt, "file size");
                    byte[] smallest = Bytes(edit, ref pos, corrupt, "smallest key");
                    byte[] largest = Bytes(edit, ref pos, corrupt, "largest key");
                    if (smallest.Length < 8 || largest.Length < 8)
                    {
                        throw corrupt($"table {number} has a key range shorter than an internal key");
                    }
                    Files[(level, number)] = new LevelDbFileMeta(level, number, size, smallest, largest);
                    break;
                }
                default:
                    throw corrupt($"unknown version edit tag {tag}");
            }
        }
    }

    /// <summary>A VersionEdit that creates this state from nothing (comparator, numbers, every file).</summary>
    public byte[] Encode()
    {
        var o = new List<byte>();
        LevelDbFormat.WriteVarint(o, LevelDbFormat.TagComparator);
        LevelDbFormat.WriteLengthPrefixed(o, System.Text.Encoding.UTF8.GetBytes(Comparator ?? LevelDbFormat.BytewiseComparator));
        LevelDbFormat.WriteVarint(o, LevelDbFormat.TagLogNumber);
        LevelDbFormat.WriteVarint(o, LogNumber);
        LevelDbFormat.WriteVarint(o, LevelDbFormat.TagPrevLogNumber);
        LevelDbFormat.WriteVarint(o, PrevLogNumber);
        LevelDbFormat.WriteVarint(o, LevelDbFormat.TagNextFileNumber);
        LevelDbFormat.WriteVarint(o, NextFileNumber);
        LevelDbFormat.WriteVarint(o, LevelDbFormat.TagLastSequence);
        LevelDbFormat.WriteVarint(o, LastSequence);
        foreach (var f in Files.Values)
        {
            LevelDbFormat.WriteVarint(o, LevelDbFormat.TagNewFile);
            LevelDbFormat.WriteVarint(o, (ulong)f.Level);
            LevelDbFormat.WriteVarint(o, f.Number);
            LevelDbFormat.WriteVarint(o, f.Size);
            LevelDbFormat.WriteLengthPrefixed(o, f.Smallest);
            LevelDbFormat.WriteLengthPrefixed(o, f.Largest);
        }
        return [.. o];
    }

    private static ulong Varint(ReadOnlySpan<byte> edit, ref int pos, Func<string, Exception> corrupt, string what) =>
        LevelDbFormat.TryReadVarint(edit, ref pos, out ulong v) ? v : throw corrupt($"version edit: bad {what}");

    private static int Level(ReadOnlySpan<byte> edit, ref int pos, Func<string, Exception> corrupt)
    {
        ulong level = Varint(edit, ref pos, corrupt, "level");
        return level < 7 ? (int)level : throw corrupt($"version edit: level {level} (LevelDB has levels 0..6)");
    }

    private static byte[] Bytes(ReadOnlySpan<byte> edit, ref int pos, Func<string, Exception> corrupt, string what)
    {
        ulong length = Varint(edit, ref pos, corrupt, what);
        if (length > (ulong)(edit.Length - pos))
        {
            throw corrupt($"version edit: {what} runs past the record");
        }
        var bytes = edit.Slice(pos, (int)length).ToArray();
        pos += (int)length;
        return bytes;
    }
}
