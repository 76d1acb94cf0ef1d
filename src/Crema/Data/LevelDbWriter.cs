using System.Globalization;

namespace Crema.Data;

/// <summary>
/// Writes a new LevelDB database that libleveldb (Caffe, plyvel) opens: records in ascending key order go into tables
/// of about 2 MiB (000002.ldb, 000003.ldb, …, disjoint key ranges, placed in level 1 as a compaction would), then
/// <see cref="Complete"/> writes MANIFEST-000001 with one version edit listing them and, last, CURRENT, so a
/// database cut short by an error never opens.
/// </summary>
public sealed class LevelDbWriter : IDbWriter
{
    private const long TableTargetSize = 2 << 20;
    private const ulong ManifestNumber = 1;

    private readonly LevelDbVersion _version = new() { Comparator = LevelDbFormat.BytewiseComparator };
    private FileStream? _tableFile;
    private LevelDbTableBuilder? _table;
    private byte[]? _tableSmallest;
    private byte[]? _lastInternal;
    private byte[]? _lastKey;
    private ulong _nextNumber = ManifestNumber + 1;
    private bool _completed;
    private readonly bool _createdFolder;

    internal LevelDbWriter(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        if (File.Exists(System.IO.Path.Combine(path, "CURRENT")))
        {
            throw new CremaException($"cannot create LevelDB '{path}': a database already exists there");
        }
        try
        {
            _createdFolder = !Directory.Exists(path);
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"cannot create LevelDB '{path}': {e.Message}", e);
        }
    }

    public string Path { get; }

    public long Count { get; private set; }

    public void Put(string key, ReadOnlySpan<byte> value) => Put(System.Text.Encoding.ASCII.GetBytes(key), value);

    public void Put(byte[] key, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_lastKey != null && key.AsSpan().SequenceCompareTo(_lastKey) <= 0)
        {
            throw new CremaException($"LevelDB '{Path}': keys must be put in ascending order, got '{Show(key)}' after '{Show(_lastKey)}'");
        }
        _lastKey = key;
        Count++;
        var internalKey = LevelDbFormat.InternalKey(key, (ulong)Count, LevelDbFormat.TypeValue);
        if (_table == null)
        {
            string file = TableFile(_nextNumber);
            try
            {
                _tableFile = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CremaException($"cannot create LevelDB '{Path}': {e.Message}", e);
            }
            _table = new LevelDbTableBuilder(_tableFile);
            _tableSmallest = internalKey;
        }
        _table.Add(internalKey, value);
        _lastInternal = internalKey;
        if (_table.EstimatedSize >= TableTargetSize)
        {
            FinishTable();
        }
    }

    /// <summary>Finishes the last table and writes the MANIFEST and CURRENT; the database is complete and readable afterwards.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        _completed = true;
        FinishTable();
        _version.LogNumber = 0;
        _version.PrevLogNumber = 0;
        _version.NextFileNumber = _nextNumber;
        _version.LastSequence = (ulong)Count;
        string manifestName = "MANIFEST-" + ManifestNumber.ToString("D6", CultureInfo.InvariantCulture);
        using (var manifest = new FileStream(System.IO.Path.Combine(Path, manifestName), FileMode.Create, FileAccess.Write))
        {
            int blockOffset = 0;
            LevelDbFormat.WriteLogRecord(manifest, _version.Encode(), ref blockOffset);
            manifest.Flush(flushToDisk: true);
        }
        // CURRENT appears last and atomically, as LevelDB's SetCurrentFile does.
        string temp = System.IO.Path.Combine(Path, ManifestNumber.ToString("D6", CultureInfo.InvariantCulture) + ".dbtmp");
        File.WriteAllText(temp, manifestName + "\n");
        File.Move(temp, System.IO.Path.Combine(Path, "CURRENT"), overwrite: true);
    }

    public void Dispose()
    {
        if (!_completed)
        {
            Complete();
        }
    }

    public void Abandon()
    {
        if (_completed)
        {
            return;
        }
        _completed = true;
        _tableFile?.Dispose();
        try
        {
            for (ulong n = ManifestNumber + 1; n <= _nextNumber; n++)
            {
                File.Delete(TableFile(n));
            }
            if (_createdFolder && !Directory.EnumerateFileSystemEntries(Path).Any())
            {
                Directory.Delete(Path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"Cannot remove the unfinished LevelDB '{Path}': {e.Message}");
        }
    }

    private void FinishTable()
    {
        if (_table == null)
        {
            return;
        }
        _table.Finish();
        _tableFile!.Flush(flushToDisk: true);
        _tableFile.Dispose();
        _version.Files[(1, _nextNumber)] = new LevelDbFileMeta(1, _nextNumber, (ulong)_table.FileSize, _tableSmallest!, _lastInternal!);
        _nextNumber++;
        _table = null;
        _tableFile = null;
    }

    private string TableFile(ulong number) => System.IO.Path.Combine(Path, number.ToString("D6", CultureInfo.InvariantCulture) + ".ldb");

    private static string Show(byte[] key) => System.Text.Encoding.ASCII.GetString(key);
}
