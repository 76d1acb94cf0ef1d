using System.Buffers.Binary;

namespace Crema.Data;

/// <summary>
/// Writes a new LMDB database (LMDB 0.9 format, readable by Caffe and the lmdb tools) by bulk loading: records must be
/// put in ascending key order (as Caffe's converters produce them, keys "%08d…"). Leaf and overflow pages stream to
/// data.mdb as they fill; only one separator key per page is kept in memory, and the branch levels and meta pages are
/// written by <see cref="Complete"/> (or <see cref="Dispose"/>), which is when the database becomes readable.
/// </summary>
public sealed class LmdbWriter : IDbWriter
{
    private const int PageSize = 4096;

    private readonly FileStream _file;
    private readonly byte[] _page = new byte[PageSize];
    private readonly List<(byte[] Key, long Page)> _leaves = [];
    private byte[]? _lastKey;
    private byte[]? _pageFirstKey;
    private int _nodes;
    private int _upper = PageSize;
    private long _nextPage = 2;
    private long _entries;
    private long _leafPages;
    private long _branchPages;
    private long _overflowPages;
    private bool _completed;
    private readonly bool _createdFolder;

    internal LmdbWriter(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
        string dataFile = System.IO.Path.Combine(path, LmdbFormat.DataFileName);
        if (File.Exists(dataFile))
        {
            throw new CremaException($"cannot create LMDB '{path}': a database already exists there");
        }
        try
        {
            _createdFolder = !Directory.Exists(path);
            Directory.CreateDirectory(path);
            _file = new FileStream(dataFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"cannot create LMDB '{path}': {e.Message}", e);
        }
        // Meta pages are written last; reserve them so a half-written database fails its magic check.
        _file.Write(new byte[2 * PageSize]);
    }

    public string Path { get; }

    public long Count => _entries;

    public void Put(string key, ReadOnlySpan<byte> value) => Put(System.Text.Encoding.ASCII.GetBytes(key), value);

    public void Put(byte[] key, ReadOnlySpan<byte> value)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (key.Length is 0 or > LmdbFormat.MaxKeySize)
        {
            throw new CremaException($"LMDB '{Path}': key length {key.Length} outside 1..{LmdbFormat.MaxKeySize}");
        }
        if (_lastKey != null && key.AsSpan().SequenceCompareTo(_lastKey) <= 0)
        {
            throw new CremaException($"LMDB '{Path}': keys must be put in ascending order, got '{Show(key)}' after '{Show(_lastKey)}'");
        }
        _lastKey = key;

        int inline = LmdbFormat.NodeHeaderSize + key.Length + value.Length;
        bool big = inline > LmdbFormat.MaxInlineNode(PageSize);
        long overflowPage = big ? WriteOverflow(value) : 0;
        int nodeSize = LmdbFormat.Even(big ? LmdbFormat.NodeHeaderSize + key.Length + 8 : inline);
        if (_upper - (LmdbFormat.PageHeaderSize + 2 * (_nodes + 1)) < nodeSize)
        {
            FlushLeaf();
        }
        _pageFirstKey ??= key;
        int node = _upper - nodeSize;
        var n = _page.AsSpan(node, nodeSize);
        n.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(n, (ushort)(value.Length & 0xffff));
        BinaryPrimitives.WriteUInt16LittleEndian(n[2..], (ushort)(value.Length >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(n[4..], (ushort)(big ? LmdbFormat.NodeBigData : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(n[6..], (ushort)key.Length);
        key.CopyTo(n[LmdbFormat.NodeHeaderSize..]);
        var data = n[(LmdbFormat.NodeHeaderSize + key.Length)..];
        if (big)
        {
            BinaryPrimitives.WriteInt64LittleEndian(data, overflowPage);
        }
        else
        {
            value.CopyTo(data);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(LmdbFormat.PageHeaderSize + 2 * _nodes), (ushort)node);
        _upper = node;
        _nodes++;
        _entries++;
    }

    /// <summary>Writes the branch levels and the meta pages; the database is complete and readable afterwards.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        if (_nodes > 0)
        {
            FlushLeaf();
        }
        long root = LmdbFormat.InvalidPage;
        int depth = 0;
        if (_leaves.Count > 0)
        {
            var level = _leaves;
            depth = 1;
            while (level.Count > 1)
            {
                level = WriteBranchLevel(level);
                depth++;
            }
            root = level[0].Page;
        }
        long lastPage = _nextPage - 1;
        _file.Position = 0;
        _file.Write(MetaPage(0, txnId: 0, LmdbFormat.InvalidPage, 0, lastPage));
        _file.Write(MetaPage(1, txnId: 1, root, depth, lastPage));
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _completed = true;
    }

    public void Dispose() => Complete();

    /// <summary>For a failed conversion: deletes the half-written data.mdb (and the folder when this writer created it) instead of completing it.</summary>
    public void Abandon()
    {
        if (_completed)
        {
            return;
        }
        _completed = true;
        _file.Dispose();
        try
        {
            File.Delete(_file.Name);
            if (_createdFolder && !Directory.EnumerateFileSystemEntries(Path).Any())
            {
                Directory.Delete(Path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"Cannot remove the unfinished LMDB '{Path}': {e.Message}");
        }
    }

    private long WriteOverflow(ReadOnlySpan<byte> value)
    {
        int pages = (LmdbFormat.PageHeaderSize - 1 + value.Length) / PageSize + 1;
        long pgno = _nextPage;
        var header = new byte[LmdbFormat.PageHeaderSize];
        BinaryPrimitives.WriteInt64LittleEndian(header, pgno);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), LmdbFormat.PageOverflow);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), pages);
        _file.Position = pgno * PageSize;
        _file.Write(header);
        _file.Write(value);
        _file.Write(new byte[(long)pages * PageSize - LmdbFormat.PageHeaderSize - value.Length]);
        _nextPage += pages;
        _overflowPages += pages;
        return pgno;
    }

    private void FlushLeaf()
    {
        long pgno = _nextPage++;
        WritePage(pgno, LmdbFormat.PageLeaf, _nodes, _upper);
        _leaves.Add((_pageFirstKey!, pgno));
        _leafPages++;
        _page.AsSpan().Clear();
        _nodes = 0;
        _upper = PageSize;
        _pageFirstKey = null;
    }

    /// <summary>Packs (first key, page) pairs into branch pages; returns the pairs for the level above.</summary>
    private List<(byte[] Key, long Page)> WriteBranchLevel(List<(byte[] Key, long Page)> children)
    {
        var parents = new List<(byte[] Key, long Page)>();
        byte[]? firstKey = null;
        foreach (var (key, child) in children)
        {
            // LMDB ignores the key of a branch page's first node, so it is stored empty.
            int keySize = _nodes == 0 ? 0 : key.Length;
            int nodeSize = LmdbFormat.Even(LmdbFormat.NodeHeaderSize + keySize);
            if (_upper - (LmdbFormat.PageHeaderSize + 2 * (_nodes + 1)) < nodeSize)
            {
                parents.Add((firstKey!, FlushBranch()));
                keySize = 0;
                nodeSize = LmdbFormat.Even(LmdbFormat.NodeHeaderSize);
            }
            if (_nodes == 0)
            {
                firstKey = key;
            }
            int node = _upper - nodeSize;
            var n = _page.AsSpan(node, nodeSize);
            n.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(n, (ushort)(child & 0xffff));
            BinaryPrimitives.WriteUInt16LittleEndian(n[2..], (ushort)((child >> 16) & 0xffff));
            BinaryPrimitives.WriteUInt16LittleEndian(n[4..], (ushort)((child >> 32) & 0xffff));
            BinaryPrimitives.WriteUInt16LittleEndian(n[6..], (ushort)keySize);
            key.AsSpan(0, keySize).CopyTo(n[LmdbFormat.NodeHeaderSize..]);
            BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(LmdbFormat.PageHeaderSize + 2 * _nodes), (ushort)node);
            _upper = node;
            _nodes++;
        }
        parents.Add((firstKey!, FlushBranch()));
        return parents;
    }

    private long FlushBranch()
    {
        long pgno = _nextPage++;
        WritePage(pgno, LmdbFormat.PageBranch, _nodes, _upper);
        _branchPages++;
        _page.AsSpan().Clear();
        _nodes = 0;
        _upper = PageSize;
        return pgno;
    }

    private void WritePage(long pgno, int flags, int nodes, int upper)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_page, pgno);
        BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(10), (ushort)flags);
        BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(12), (ushort)(LmdbFormat.PageHeaderSize + 2 * nodes));
        BinaryPrimitives.WriteUInt16LittleEndian(_page.AsSpan(14), (ushort)upper);
        _file.Position = pgno * PageSize;
        _file.Write(_page);
    }

    private byte[] MetaPage(long pgno, long txnId, long root, int depth, long lastPage)
    {
        var page = new byte[PageSize];
        BinaryPrimitives.WriteInt64LittleEndian(page, pgno);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(10), LmdbFormat.PageMeta);
        var m = page.AsSpan(LmdbFormat.PageHeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(m[LmdbFormat.MetaMagic..], LmdbFormat.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(m[LmdbFormat.MetaVersion..], LmdbFormat.DataVersion);
        long mapSize = Math.Max(10L << 20, ((lastPage + 1) * PageSize + (1 << 20) - 1) & ~((1L << 20) - 1));
        BinaryPrimitives.WriteInt64LittleEndian(m[LmdbFormat.MetaMapSize..], mapSize);
        var free = m.Slice(LmdbFormat.MetaFreeDb, 48);
        BinaryPrimitives.WriteUInt32LittleEndian(free[LmdbFormat.DbPad..], PageSize);
        BinaryPrimitives.WriteInt64LittleEndian(free[LmdbFormat.DbRoot..], LmdbFormat.InvalidPage);
        var main = m.Slice(LmdbFormat.MetaMainDb, 48);
        bool empty = root == LmdbFormat.InvalidPage;
        BinaryPrimitives.WriteUInt16LittleEndian(main[LmdbFormat.DbDepth..], (ushort)depth);
        BinaryPrimitives.WriteInt64LittleEndian(main[LmdbFormat.DbBranchPages..], empty ? 0 : _branchPages);
        BinaryPrimitives.WriteInt64LittleEndian(main[LmdbFormat.DbLeafPages..], empty ? 0 : _leafPages);
        BinaryPrimitives.WriteInt64LittleEndian(main[LmdbFormat.DbOverflowPages..], empty ? 0 : _overflowPages);
        BinaryPrimitives.WriteInt64LittleEndian(main[LmdbFormat.DbEntries..], empty ? 0 : _entries);
        BinaryPrimitives.WriteInt64LittleEndian(main[LmdbFormat.DbRoot..], root);
        BinaryPrimitives.WriteInt64LittleEndian(m[LmdbFormat.MetaLastPage..], txnId == 0 ? 1 : lastPage);
        BinaryPrimitives.WriteInt64LittleEndian(m[LmdbFormat.MetaTxnId..], txnId);
        return page;
    }

    private static string Show(byte[] key) => System.Text.Encoding.ASCII.GetString(key);
}
