using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Crema.Data;

/// <summary>
/// Reads a Caffe LMDB (a directory holding data.mdb, LMDB 0.9 on-disk format, unnamed database, keys in byte order)
/// without native code: the file is memory-mapped read-only and the B-tree walked directly, so read-only folders and
/// databases another process has finished writing open without a lock file. Write new ones with <see cref="LmdbWriter"/>.
/// </summary>
public sealed unsafe class LmdbDatabase : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private bool _disposed;

    private LmdbDatabase(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        _map = map;
        _view = view;
        _length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    public string Path { get; }

    /// <summary>Number of records.</summary>
    public long Count { get; private set; }

    internal int PageSize { get; private set; }

    internal long Root { get; private set; } = LmdbFormat.InvalidPage;

    internal long PageCount => _length / PageSize;

    /// <summary>Opens an existing database for reading; a missing or damaged database throws a <see cref="CremaException"/> naming the path.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2000", Justification = "the memory map owns the stream (leaveOpen: false), the database owns the map")]
    public static LmdbDatabase OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string dataFile = System.IO.Path.Combine(path, LmdbFormat.DataFileName);
        if (!Directory.Exists(path))
        {
            throw new CremaException(File.Exists(path)
                ? $"LMDB source '{path}' is a file; an LMDB database is a directory holding data.mdb"
                : $"LMDB source '{path}' not found (expected a directory holding data.mdb)");
        }
        if (!File.Exists(dataFile))
        {
            throw new CremaException($"LMDB source '{path}' has no data.mdb: not an LMDB database");
        }
        long length = new FileInfo(dataFile).Length;
        if (length < 2 * LmdbFormat.MinPageSize)
        {
            throw new CremaException($"LMDB '{path}' is corrupt: data.mdb has only {length} bytes");
        }
        var stream = new FileStream(dataFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        var db = new LmdbDatabase(path, map, view, length);
        try
        {
            db.ReadMeta();
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Creates a new database directory for sequential writing (keys must come in ascending byte order).</summary>
    public static LmdbWriter Create(string path) => new(path);

    private void ReadMeta()
    {
        // Both meta pages sit at the start; the page size is recorded in the meta, so read it from page 0 first.
        var m0 = ReadMetaAt(0);
        PageSize = m0.PageSize;
        if (PageSize < LmdbFormat.MinPageSize || PageSize > LmdbFormat.MaxPageSize || (PageSize & (PageSize - 1)) != 0)
        {
            throw Corrupt($"bad page size {PageSize}");
        }
        if (2L * PageSize > _length)
        {
            throw Corrupt($"data.mdb has {_length} bytes, less than its two {PageSize}-byte meta pages (truncated?)");
        }
        var m1 = ReadMetaAt(PageSize);
        var meta = m1.TxnId > m0.TxnId ? m1 : m0;
        Root = meta.Root;
        Count = meta.Entries;
        if (Root != LmdbFormat.InvalidPage && Root >= PageCount)
        {
            throw Corrupt($"root page {Root} beyond the end of data.mdb ({PageCount} pages)");
        }
    }

    private LmdbFormat.Meta ReadMetaAt(long offset)
    {
        if (offset + LmdbFormat.MinPageSize > _length)
        {
            throw Corrupt($"meta page at byte {offset} runs past the end of data.mdb ({_length} bytes)");
        }
        var page = new ReadOnlySpan<byte>(_base + offset, LmdbFormat.MinPageSize);
        var m = LmdbFormat.ReadMeta(page);
        if (m.Magic != LmdbFormat.Magic)
        {
            throw Corrupt("not an LMDB file (bad magic number)");
        }
        if (m.Version != LmdbFormat.DataVersion)
        {
            throw Corrupt($"LMDB data format version {m.Version} is not supported (expected {LmdbFormat.DataVersion}, as written by LMDB 0.9 and Caffe)");
        }
        if ((m.PageFlags & LmdbFormat.PageMeta) == 0)
        {
            throw Corrupt("meta page has wrong flags");
        }
        return m;
    }

    /// <summary>A cursor over all records in key order, positioned on the first one.</summary>
    public LmdbCursor OpenCursor()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new LmdbCursor(this);
    }

    /// <summary>The page at <paramref name="pgno"/> after checking it lies inside the file.</summary>
    internal ReadOnlySpan<byte> Page(long pgno)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (pgno < 2 || pgno >= PageCount)
        {
            throw Corrupt($"page {pgno} out of range (file has {PageCount} pages)");
        }
        var page = new ReadOnlySpan<byte>(_base + pgno * PageSize, PageSize);
        // Every page records its own number: a cheap check that catches damaged or misaddressed pages.
        long stored = BinaryPrimitives.ReadInt64LittleEndian(page);
        if (stored != pgno)
        {
            throw Corrupt($"page {pgno} says it is page {stored}");
        }
        return page;
    }

    /// <summary>Bytes of an overflow value stored from page <paramref name="pgno"/> on.</summary>
    internal ReadOnlySpan<byte> Overflow(long pgno, int size, LmdbCursor cursor)
    {
        if (size < 0)
        {
            throw Corrupt($"record '{cursor.KeyString}' has a negative size ({size})");
        }
        var page = Page(pgno);
        if ((LmdbFormat.Flags(page) & LmdbFormat.PageOverflow) == 0)
        {
            throw Corrupt($"page {pgno} should be an overflow page");
        }
        long start = pgno * PageSize + LmdbFormat.PageHeaderSize;
        if (start + size > _length)
        {
            throw Corrupt($"record '{cursor.KeyString}': overflow value of {size} bytes at page {pgno} runs past the end of data.mdb");
        }
        return new ReadOnlySpan<byte>(_base + start, size);
    }

    internal CremaException Corrupt(string detail) => new($"LMDB '{Path}' is corrupt or unsupported: {detail}");

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
        }
    }
}

/// <summary>
/// A read cursor in key order. <see cref="MoveNext"/> stops after the last record; <see cref="Advance"/> wraps to the
/// first record, which is how Caffe's Data layer cycles through a database.
/// </summary>
public sealed class LmdbCursor : IDbCursor
{
    private readonly LmdbDatabase _db;
    private readonly List<(long Page, int Index)> _stack = [];

    internal LmdbCursor(LmdbDatabase db)
    {
        _db = db;
        SeekToFirst();
    }

    /// <summary>False when the database is empty or <see cref="MoveNext"/> went past the last record.</summary>
    public bool IsValid { get; private set; }

    /// <summary>The current key; valid while the database is open.</summary>
    public ReadOnlySpan<byte> Key
    {
        get
        {
            int node = Current(out var page);
            return LmdbFormat.NodeKey(page, node);
        }
    }

    /// <summary>The current value; valid while the database is open (copy it to keep it).</summary>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            int node = Current(out var page);
            int flags = LmdbFormat.NodeFlags(page, node);
            int size = LmdbFormat.NodeDataSize(page, node);
            int start = node + LmdbFormat.NodeHeaderSize + LmdbFormat.NodeKeySize(page, node);
            if ((flags & LmdbFormat.NodeBigData) != 0)
            {
                if (start + 8 > page.Length)
                {
                    throw _db.Corrupt($"record '{KeyString}': overflow page number runs past its page");
                }
                long ovpage = BinaryPrimitives.ReadInt64LittleEndian(page.Slice(start, 8));
                return _db.Overflow(ovpage, size, this);
            }
            if ((flags & (LmdbFormat.NodeSubData | LmdbFormat.NodeDupData)) != 0)
            {
                throw _db.Corrupt("duplicate-key or named sub-databases are not supported (Caffe writes neither)");
            }
            if (size < 0)
            {
                throw _db.Corrupt($"record '{KeyString}' has a negative size ({size})");
            }
            if ((long)start + size > page.Length)
            {
                throw _db.Corrupt($"record '{KeyString}' ({size} bytes) runs past its page");
            }
            return page.Slice(start, size);
        }
    }

    public string KeyString => System.Text.Encoding.ASCII.GetString(Key);

    public void SeekToFirst()
    {
        _stack.Clear();
        IsValid = _db.Root != LmdbFormat.InvalidPage && Descend(_db.Root);
    }

    /// <summary>Moves to the next record in key order; false (and <see cref="IsValid"/> false) after the last.</summary>
    public bool MoveNext()
    {
        if (!IsValid)
        {
            return false;
        }
        // Climb until a page has a next entry, then take the leftmost path below it.
        while (_stack.Count > 0)
        {
            var (pgno, index) = _stack[^1];
            var page = _db.Page(pgno);
            if (index + 1 < LmdbFormat.NodeCount(page))
            {
                _stack[^1] = (pgno, index + 1);
                if (LmdbFormat.IsLeaf(page))
                {
                    return true;
                }
                if (Descend(LmdbFormat.ChildPage(page, Node(page, index + 1, pgno))))
                {
                    return true;
                }
            }
            _stack.RemoveAt(_stack.Count - 1);
        }
        IsValid = false;
        return false;
    }

    /// <summary>Moves to the next record, restarting from the first after the last. Returns true when it wrapped.</summary>
    public bool Advance()
    {
        if (MoveNext())
        {
            return false;
        }
        SeekToFirst();
        if (!IsValid)
        {
            throw new CremaException($"LMDB '{_db.Path}' is empty");
        }
        return true;
    }

    private bool Descend(long pgno)
    {
        for (int depth = 0; ; depth++)
        {
            if (depth > 64)
            {
                throw _db.Corrupt("B-tree deeper than 64 levels (a page cycle?)");
            }
            var page = _db.Page(pgno);
            int lower = BinaryPrimitives.ReadUInt16LittleEndian(page[12..]);
            int upper = BinaryPrimitives.ReadUInt16LittleEndian(page[14..]);
            if (lower < LmdbFormat.PageHeaderSize || lower > upper || upper > page.Length)
            {
                throw _db.Corrupt($"page {pgno} has bad bounds (lower {lower}, upper {upper})");
            }
            int n = LmdbFormat.NodeCount(page);
            _stack.Add((pgno, 0));
            if (LmdbFormat.IsLeaf(page))
            {
                return n > 0;
            }
            if (!LmdbFormat.IsBranch(page) || n == 0)
            {
                throw _db.Corrupt($"page {pgno} is neither a leaf nor a non-empty branch (flags 0x{LmdbFormat.Flags(page):x})");
            }
            pgno = LmdbFormat.ChildPage(page, Node(page, 0, pgno));
        }
    }

    /// <summary>The current leaf page and the offset of the current node in it.</summary>
    private int Current(out ReadOnlySpan<byte> page)
    {
        if (!IsValid)
        {
            throw new InvalidOperationException("cursor is not on a record");
        }
        var (pgno, index) = _stack[^1];
        page = _db.Page(pgno);
        return Node(page, index, pgno);
    }

    /// <summary>Offset of node <paramref name="index"/>, checked to lie (with its key) inside the page.</summary>
    private int Node(ReadOnlySpan<byte> page, int index, long pgno)
    {
        int node = LmdbFormat.NodeOffset(page, index);
        if (node < LmdbFormat.PageHeaderSize || node + LmdbFormat.NodeHeaderSize > page.Length
            || node + LmdbFormat.NodeHeaderSize + LmdbFormat.NodeKeySize(page, node) > page.Length)
        {
            throw _db.Corrupt($"bad node offset {node} in page {pgno}");
        }
        return node;
    }

    public void Dispose() => _stack.Clear();
}
