using System.Buffers.Binary;
using System.Globalization;

namespace Crema.Data;

/// <summary>
/// Reads a LevelDB database (a directory with CURRENT, MANIFEST-*, *.ldb/*.sst tables and *.log write-ahead logs, as
/// Caffe's converters write with <c>-backend leveldb</c>) without native code. CURRENT names the MANIFEST, whose
/// version edits give the live tables per level; logs not yet compacted are replayed; entries of the same key are
/// resolved by sequence number and deletions honoured, so the cursor sees what libleveldb would. Every block and log
/// record is CRC-checked; damage throws a <see cref="CremaException"/> naming the database and file.
/// Write new ones with <see cref="Create"/>.
/// </summary>
public sealed class LevelDbDatabase : IDisposable
{
    private readonly List<LevelDbFileMeta> _files;
    private readonly List<LevelDbEntry> _logEntries;
    private bool _disposed;

    private LevelDbDatabase(string path, LevelDbVersion version, List<LevelDbEntry> logEntries)
    {
        Path = path;
        _files = [.. version.Files.Values];
        _logEntries = logEntries;
    }

    public string Path { get; }

    /// <summary>Opens an existing database for reading; a missing or damaged one throws a <see cref="CremaException"/> naming it.</summary>
    public static LevelDbDatabase OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Directory.Exists(path))
        {
            throw new CremaException(File.Exists(path)
                ? $"LevelDB source '{path}' is a file; a LevelDB database is a directory holding CURRENT"
                : $"LevelDB source '{path}' not found (expected a directory holding CURRENT)");
        }
        string currentFile = System.IO.Path.Combine(path, "CURRENT");
        if (!File.Exists(currentFile))
        {
            throw new CremaException(File.Exists(System.IO.Path.Combine(path, LmdbFormat.DataFileName))
                ? $"'{path}' is an LMDB database, not a LevelDB one (use backend LMDB)"
                : $"LevelDB source '{path}' has no CURRENT file: not a LevelDB database");
        }
        Exception Corrupt(string detail) => new CremaException($"LevelDB '{path}' is corrupt or unsupported: {detail}");

        string manifestName = File.ReadAllText(currentFile);
        if (!manifestName.EndsWith('\n') || !manifestName.StartsWith("MANIFEST-", StringComparison.Ordinal) || manifestName.AsSpan(0, manifestName.Length - 1).ContainsAny('/', '\\'))
        {
            throw Corrupt($"CURRENT does not name a MANIFEST (it holds '{manifestName.TrimEnd()}')");
        }
        manifestName = manifestName[..^1];
        string manifest = System.IO.Path.Combine(path, manifestName);
        if (!File.Exists(manifest))
        {
            throw Corrupt($"CURRENT names {manifestName}, which does not exist");
        }
        var version = new LevelDbVersion();
        foreach (var edit in LevelDbFormat.ReadLogRecords(File.ReadAllBytes(manifest), d => Corrupt($"{manifestName}: {d}")))
        {
            version.Apply(edit, d => Corrupt($"{manifestName}: {d}"));
        }
        if (version.Comparator != null && version.Comparator != LevelDbFormat.BytewiseComparator)
        {
            throw Corrupt($"it was written with comparator '{version.Comparator}'; only {LevelDbFormat.BytewiseComparator} (Caffe's) is supported");
        }
        var entries = new List<LevelDbEntry>();
        foreach (var (number, file) in LogFiles(path))
        {
            if (number >= version.LogNumber || number == version.PrevLogNumber)
            {
                string name = System.IO.Path.GetFileName(file);
                foreach (var batch in LevelDbFormat.ReadLogRecords(File.ReadAllBytes(file), d => Corrupt($"{name}: {d}")))
                {
                    ReadWriteBatch(batch, entries, d => Corrupt($"{name}: {d}"));
                }
            }
        }
        entries.Sort(LevelDbEntry.Compare);
        return new LevelDbDatabase(path, version, entries);
    }

    /// <summary>Creates a new database for sequential writing (keys must come in ascending byte order).</summary>
    public static LevelDbWriter Create(string path) => new(path);

    /// <summary>A cursor over all live records in key order, positioned on the first one.</summary>
    public LevelDbCursor OpenCursor()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var sources = new List<LevelDbSource> { new LevelDbListSource(_logEntries) };
        // Level-0 tables may overlap each other; deeper levels are sorted runs of disjoint tables.
        foreach (var f in _files.Where(f => f.Level == 0))
        {
            sources.Add(new LevelDbTableSource(this, [f]));
        }
        foreach (var level in _files.Where(f => f.Level > 0).GroupBy(f => f.Level))
        {
            sources.Add(new LevelDbTableSource(this, [.. level.OrderBy(f => f.Smallest[..^8], ByteArrayComparer.Instance)]));
        }
        return new LevelDbCursor(this, sources);
    }

    internal string TablePath(ulong number)
    {
        string ldb = System.IO.Path.Combine(Path, number.ToString("D6", CultureInfo.InvariantCulture) + ".ldb");
        string sst = System.IO.Path.ChangeExtension(ldb, ".sst");
        if (!File.Exists(ldb) && File.Exists(sst))
        {
            return sst;
        }
        return File.Exists(ldb) ? ldb : throw Corrupt($"table {System.IO.Path.GetFileName(ldb)} listed in the MANIFEST is missing");
    }

    internal CremaException Corrupt(string detail) => new($"LevelDB '{Path}' is corrupt or unsupported: {detail}");

    private static IEnumerable<(ulong Number, string File)> LogFiles(string path) =>
        Directory.EnumerateFiles(path, "*.log")
            .Select(f => (Ok: ulong.TryParse(System.IO.Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n), Number: n, File: f))
            .Where(x => x.Ok)
            .OrderBy(x => x.Number)
            .Select(x => (x.Number, x.File));

    /// <summary>A WriteBatch: sequence (fixed64), count (fixed32), then count × (type, key[, value]) with consecutive sequence numbers.</summary>
    private static void ReadWriteBatch(byte[] batch, List<LevelDbEntry> entries, Func<string, Exception> corrupt)
    {
        if (batch.Length < 12)
        {
            throw corrupt($"write batch of {batch.Length} bytes is shorter than its header");
        }
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(batch);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(batch.AsSpan(8));
        int pos = 12;
        uint found = 0;
        while (pos < batch.Length)
        {
            byte type = batch[pos++];
            byte[] key = Slice(batch, ref pos, corrupt);
            switch (type)
            {
                case LevelDbFormat.TypeValue:
                    entries.Add(new LevelDbEntry(key, sequence + found, type, Slice(batch, ref pos, corrupt)));
                    break;
                case LevelDbFormat.TypeDeletion:
                    entries.Add(new LevelDbEntry(key, sequence + found, type, []));
                    break;
                default:
                    throw corrupt($"write batch holds an entry of unknown type {type}");
            }
            found++;
        }
        if (found != count)
        {
            throw corrupt($"write batch says it has {count} entries but holds {found}");
        }
    }

    private static byte[] Slice(byte[] data, ref int pos, Func<string, Exception> corrupt)
    {
        if (!LevelDbFormat.TryReadVarint(data, ref pos, out ulong length) || length > (ulong)(data.Length - pos))
        {
            throw corrupt("write batch entry runs past its record");
        }
        var bytes = data.AsSpan(pos, (int)length).ToArray();
        pos += (int)length;
        return bytes;
    }

    public void Dispose() => _disposed = true;
}

/// <summary>
/// A read cursor in key order over a <see cref="LevelDbDatabase"/>: a merge of the replayed logs and the tables where,
/// for each key, the entry with the highest sequence number wins and a deletion hides the key.
/// </summary>
public sealed class LevelDbCursor : IDbCursor
{
    private readonly LevelDbDatabase _db;
    private readonly List<LevelDbSource> _sources;
    private LevelDbEntry? _current;

    internal LevelDbCursor(LevelDbDatabase db, List<LevelDbSource> sources)
    {
        _db = db;
        _sources = sources;
        SeekToFirst();
    }

    public bool IsValid => _current != null;

    public ReadOnlySpan<byte> Key => Current.UserKey;

    public ReadOnlySpan<byte> Value => Current.Value;

    public string KeyString => System.Text.Encoding.ASCII.GetString(Key);

    private LevelDbEntry Current => _current ?? throw new InvalidOperationException("cursor is not on a record");

    public void SeekToFirst()
    {
        foreach (var s in _sources)
        {
            s.SeekToFirst();
        }
        FindVisible(null);
    }

    public bool MoveNext()
    {
        if (_current == null)
        {
            return false;
        }
        FindVisible(_current.UserKey);
        return _current != null;
    }

    public bool Advance()
    {
        if (MoveNext())
        {
            return false;
        }
        SeekToFirst();
        if (_current == null)
        {
            throw new CremaException($"LevelDB '{_db.Path}' is empty");
        }
        return true;
    }

    // Takes the smallest (key, newest-first) entry of all sources; older entries of a key already seen are skipped.
    private void FindVisible(byte[]? skip)
    {
        while (true)
        {
            LevelDbSource? min = null;
            foreach (var s in _sources)
            {
                if (s.Current != null && (min == null || LevelDbEntry.Compare(s.Current, min.Current!) < 0))
                {
                    min = s;
                }
            }
            if (min == null)
            {
                _current = null;
                return;
            }
            var entry = min.Current!;
            min.MoveNext();
            if (skip != null && entry.UserKey.AsSpan().SequenceEqual(skip))
            {
                continue;
            }
            skip = entry.UserKey;
            if (entry.Type == LevelDbFormat.TypeValue)
            {
                _current = entry;
                return;
            }
        }
    }

    public void Dispose()
    {
        foreach (var s in _sources)
        {
            s.Dispose();
        }
        _current = null;
    }
}

/// <summary>One version of a key: newer sequence numbers shadow older ones.</summary>
internal sealed record LevelDbEntry(byte[] UserKey, ulong Sequence, byte Type, byte[] Value)
{
    /// <summary>LevelDB's internal key order: user key ascending, then sequence descending.</summary>
    public static int Compare(LevelDbEntry? a, LevelDbEntry? b)
    {
        int c = a!.UserKey.AsSpan().SequenceCompareTo(b!.UserKey);
        return c != 0 ? c : b.Sequence.CompareTo(a.Sequence);
    }
}

/// <summary>A sorted stream of entries (the replayed logs, one level-0 table, or one deeper level).</summary>
internal abstract class LevelDbSource : IDisposable
{
    public LevelDbEntry? Current { get; protected set; }

    public abstract void SeekToFirst();

    public abstract void MoveNext();

    public void Dispose() => Release();

    /// <summary>Closes open files; the source can be sought again.</summary>
    protected virtual void Release() { }
}

internal sealed class LevelDbListSource(List<LevelDbEntry> entries) : LevelDbSource
{
    private int _index;

    public override void SeekToFirst()
    {
        _index = 0;
        Current = entries.Count > 0 ? entries[0] : null;
    }

    public override void MoveNext()
    {
        _index++;
        Current = _index < entries.Count ? entries[_index] : null;
    }
}

/// <summary>Tables read one after another, one data block in memory at a time.</summary>
internal sealed class LevelDbTableSource(LevelDbDatabase db, List<LevelDbFileMeta> files) : LevelDbSource
{
    private int _file = -1;
    private LevelDbTable? _table;
    private int _block;
    private List<(byte[] Key, byte[] Value)> _entries = [];
    private int _entry;

    public override void SeekToFirst()
    {
        Close();
        _file = -1;
        _entries = [];
        _entry = 0;
        Fill();
    }

    public override void MoveNext()
    {
        _entry++;
        Fill();
    }

    // Moves on to the next non-empty block (and table) when the current block is used up; sets Current.
    private void Fill()
    {
        while (_entry >= _entries.Count)
        {
            if (_table == null || _block >= _table.DataBlocks.Count)
            {
                Close();
                if (++_file >= files.Count)
                {
                    Current = null;
                    return;
                }
                _table = LevelDbTable.Open(db.TablePath(files[_file].Number), db.Corrupt);
                _block = 0;
                continue;
            }
            var (offset, size) = _table.DataBlocks[_block++];
            _entries = _table.ReadEntries(_table.ReadBlock(offset, size));
            _entry = 0;
        }
        var (key, value) = _entries[_entry];
        if (key.Length < 8)
        {
            throw db.Corrupt($"{Path.GetFileName(_table!.Path)}: internal key of {key.Length} bytes (at least 8 expected)");
        }
        ulong tag = BinaryPrimitives.ReadUInt64LittleEndian(key.AsSpan(key.Length - 8));
        byte type = (byte)(tag & 0xff);
        if (type > LevelDbFormat.TypeValue)
        {
            throw db.Corrupt($"{Path.GetFileName(_table!.Path)}: entry of unknown type {type}");
        }
        Current = new LevelDbEntry(key[..^8], tag >> 8, type, value);
    }

    private void Close()
    {
        _table?.Dispose();
        _table = null;
    }

    protected override void Release() => Close();
}

internal sealed class ByteArrayComparer : IComparer<byte[]>
{
    public static ByteArrayComparer Instance { get; } = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
