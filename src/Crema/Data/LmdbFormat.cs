using System.Buffers.Binary;

namespace Crema.Data;

/// <summary>
/// The LMDB 0.9 on-disk layout on 64-bit little-endian machines (what Caffe's LMDBs use).
/// Page: header {pgno u64, pad u16, flags u16, lower u16, upper u16} then u16 node offsets growing up and nodes growing
/// down from the page end. Node: {lo u16, hi u16, flags u16, ksize u16, key, data}; in leaves lo|hi is the data size,
/// in branches lo|hi|flags is the child page number. Pages 0 and 1 hold metas; the one with the larger txnid is current.
/// </summary>
internal static class LmdbFormat
{
    public const string DataFileName = "data.mdb";
    public const uint Magic = 0xBEEFC0DE;
    public const int DataVersion = 1;
    public const int MinPageSize = 512;
    public const int MaxPageSize = 0x10000;
    public const long InvalidPage = -1;
    public const int PageHeaderSize = 16;
    public const int NodeHeaderSize = 8;

    public const int PageBranch = 0x01;
    public const int PageLeaf = 0x02;
    public const int PageOverflow = 0x04;
    public const int PageMeta = 0x08;

    public const int NodeBigData = 0x01;
    public const int NodeSubData = 0x02;
    public const int NodeDupData = 0x04;

    /// <summary>LMDB's default key size limit (MDB_MAXKEYSIZE).</summary>
    public const int MaxKeySize = 511;

    // Offsets inside the meta (after the page header): magic u32, version u32, address u64, mapsize u64,
    // dbs[2] (free, main) of 48 bytes each, last_pg u64, txnid u64.
    public const int MetaMagic = 0, MetaVersion = 4, MetaMapSize = 16, MetaFreeDb = 24, MetaMainDb = 72, MetaLastPage = 120, MetaTxnId = 128;
    public const int MetaSize = 136;

    // Offsets inside a db record: pad u32 (page size, in the free db), flags u16, depth u16, branch/leaf/overflow pages,
    // entries and root as u64.
    public const int DbPad = 0, DbFlags = 4, DbDepth = 6, DbBranchPages = 8, DbLeafPages = 16, DbOverflowPages = 24, DbEntries = 32, DbRoot = 40;

    public readonly record struct Meta(uint Magic, int Version, int PageFlags, int PageSize, int Flags, long Root, long Entries, long TxnId);

    public static Meta ReadMeta(ReadOnlySpan<byte> page)
    {
        var m = page[PageHeaderSize..];
        return new Meta(
            BinaryPrimitives.ReadUInt32LittleEndian(m[MetaMagic..]),
            (int)BinaryPrimitives.ReadUInt32LittleEndian(m[MetaVersion..]),
            Flags(page),
            (int)BinaryPrimitives.ReadUInt32LittleEndian(m[(MetaFreeDb + DbPad)..]),
            BinaryPrimitives.ReadUInt16LittleEndian(m[(MetaMainDb + DbFlags)..]),
            BinaryPrimitives.ReadInt64LittleEndian(m[(MetaMainDb + DbRoot)..]),
            BinaryPrimitives.ReadInt64LittleEndian(m[(MetaMainDb + DbEntries)..]),
            BinaryPrimitives.ReadInt64LittleEndian(m[MetaTxnId..]));
    }

    public static int Flags(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[10..]);

    public static bool IsLeaf(ReadOnlySpan<byte> page) => (Flags(page) & PageLeaf) != 0;

    public static bool IsBranch(ReadOnlySpan<byte> page) => (Flags(page) & PageBranch) != 0;

    public static int NodeCount(ReadOnlySpan<byte> page)
    {
        int lower = BinaryPrimitives.ReadUInt16LittleEndian(page[12..]);
        return lower < PageHeaderSize || lower > page.Length ? 0 : (lower - PageHeaderSize) >> 1;
    }

    public static int NodeOffset(ReadOnlySpan<byte> page, int index) =>
        BinaryPrimitives.ReadUInt16LittleEndian(page[(PageHeaderSize + 2 * index)..]);

    public static int NodeDataSize(ReadOnlySpan<byte> page, int node) =>
        BinaryPrimitives.ReadUInt16LittleEndian(page[node..]) | (BinaryPrimitives.ReadUInt16LittleEndian(page[(node + 2)..]) << 16);

    public static int NodeFlags(ReadOnlySpan<byte> page, int node) => BinaryPrimitives.ReadUInt16LittleEndian(page[(node + 4)..]);

    public static int NodeKeySize(ReadOnlySpan<byte> page, int node) => BinaryPrimitives.ReadUInt16LittleEndian(page[(node + 6)..]);

    public static ReadOnlySpan<byte> NodeKey(ReadOnlySpan<byte> page, int node) => page.Slice(node + NodeHeaderSize, NodeKeySize(page, node));

    /// <summary>Child page of a branch node: lo | hi &lt;&lt; 16 | flags &lt;&lt; 32.</summary>
    public static long ChildPage(ReadOnlySpan<byte> page, int node) =>
        BinaryPrimitives.ReadUInt16LittleEndian(page[node..])
        | ((long)BinaryPrimitives.ReadUInt16LittleEndian(page[(node + 2)..]) << 16)
        | ((long)BinaryPrimitives.ReadUInt16LittleEndian(page[(node + 4)..]) << 32);

    /// <summary>Largest leaf node stored inline; bigger values go to overflow pages (LMDB's me_nodemax).</summary>
    public static int MaxInlineNode(int pageSize) => (((pageSize - PageHeaderSize) / 2) & -2) - 2;

    public static int Even(int n) => (n + 1) & -2;
}
