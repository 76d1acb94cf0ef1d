using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Crema.Data;

/// <summary>
/// Checks an HDF5 file's link structure before PureHDF opens it. PureHDF resolves a soft link by recursing into the
/// link's target, so a link that names itself (or a cycle a → b → a, or a very long chain) recurses until the stack
/// overflows, which kills the process. This walker reads only what it needs (superblock, object headers, old-style
/// symbol tables, compact link messages), follows every soft link with at most <see cref="MaxSoftLinkHops"/> hops
/// (libhdf5's own limit, H5L_NUM_LINKS), bounds every read by the file size and visits every structure once, so any
/// file gives either success or one <see cref="CremaException"/> naming the file.
/// </summary>
public static partial class Hdf5LinkGuard
{
    /// <summary>Most soft links one lookup may pass through (libhdf5's H5L_NUM_LINKS); a longer chain is refused.</summary>
    public const int MaxSoftLinkHops = 16;

    private const int MaxObjects = 1_000_000;
    private const int MaxNameBytes = 1 << 16;

    /// <summary>Throws a <see cref="CremaException"/> naming <paramref name="path"/> when its links could make PureHDF recurse without end.</summary>
    public static void Check(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        new Walker(path, handle).Run();
    }

    private enum LinkKind
    {
        Hard,
        Soft,
        External,
    }

    private readonly record struct Link(LinkKind Kind, ulong Address, string Value);

    // A place a path can lead to: an object header address plus, for old-style files, the cached B-tree/heap pair
    // of the symbol table entry that named it (PureHDF reads a group's links from that cache when present).
    private readonly record struct Ref(ulong Address, ulong CachedBTree, ulong CachedHeap);

    private sealed class Group
    {
        public Dictionary<string, Link> Links { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Ref> Cached { get; } = new(StringComparer.Ordinal);
    }

    private sealed partial class Walker(string path, SafeFileHandle handle)
    {
        private readonly long _length = RandomAccess.GetLength(handle);
        private readonly Dictionary<Ref, Group?> _groups = [];
        private int _sizeOfOffsets;
        private int _sizeOfLengths;
        private long _base;
        private ulong _undefined;
        private int _work;

        public void Run()
        {
            var root = ReadSuperblock();
            if (root is null)
            {
                return; // not HDF5: PureHDF gives its own error
            }
            var queue = new Queue<(Ref Ref, string Path)>();
            var seen = new HashSet<ulong> { root.Value.Address };
            queue.Enqueue((root.Value, "/"));
            while (queue.Count > 0)
            {
                var (at, groupPath) = queue.Dequeue();
                var group = Load(at);
                if (group is null)
                {
                    continue;
                }
                foreach (var (name, link) in group.Links)
                {
                    string linkPath = groupPath == "/" ? "/" + name : groupPath + "/" + name;
                    switch (link.Kind)
                    {
                        case LinkKind.Hard:
                            if (seen.Add(link.Address))
                            {
                                queue.Enqueue((RefOf(group, name, link), linkPath));
                            }
                            break;
                        case LinkKind.Soft:
                            _ = Resolve(link.Value, at, root.Value, linkPath, [(at.Address, name)]);
                            break;
                        default:
                            throw new CremaException($"{path}: link '{linkPath}' points into another file ('{link.Value}'); external links are not followed");
                    }
                }
            }
        }

        // Mirrors PureHDF's NativeGroup.InternalGet: a rooted or relative '/'-separated path, each segment looked up
        // in the group reached so far; a soft link met on the way is resolved first (that is where PureHDF recurses).
        // Returns null where PureHDF would give an unresolved link (a missing name), which it handles without harm.
        private Ref? Resolve(string target, Ref from, Ref root, string linkPath, List<(ulong, string)> chain)
        {
            if (target == "/")
            {
                return root;
            }
            bool rooted = target.StartsWith('/');
            string[] segments = rooted ? target.Split('/')[1..] : target.Split('/');
            Ref current = rooted ? root : from;
            foreach (string segment in segments)
            {
                if (++_work > MaxObjects)
                {
                    throw new CremaException($"{path}: soft links too many or too tangled to check");
                }
                var group = Load(current);
                if (group is null || !group.Links.TryGetValue(segment, out var link))
                {
                    return null;
                }
                switch (link.Kind)
                {
                    case LinkKind.Hard:
                        current = RefOf(group, segment, link);
                        break;
                    case LinkKind.Soft:
                        {
                            if (chain.Contains((current.Address, segment)))
                            {
                                throw new CremaException($"{path}: soft link '{linkPath}' is part of a cycle (it leads back to itself through '{segment}')");
                            }
                            if (chain.Count >= MaxSoftLinkHops)
                            {
                                throw new CremaException($"{path}: soft link '{linkPath}' starts a chain of more than {MaxSoftLinkHops} soft links");
                            }
                            chain.Add((current.Address, segment));
                            var next = Resolve(link.Value, current, root, linkPath, chain);
                            chain.RemoveAt(chain.Count - 1);
                            if (next is null)
                            {
                                return null;
                            }
                            current = next.Value;
                            break;
                        }
                    default:
                        throw new CremaException($"{path}: soft link '{linkPath}' leads to an external link ('{link.Value}'); external links are not followed");
                }
            }
            return current;
        }

        private static Ref RefOf(Group group, string name, Link link) =>
            group.Cached.TryGetValue(name, out var cached) ? cached : new Ref(link.Address, 0, 0);

        private Ref? ReadSuperblock()
        {
            ReadOnlySpan<byte> signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];
            // The superblock sits at 0, 512, 1024, 2048, … (after a user block).
            for (long at = 0; at + 16 <= _length; at = at == 0 ? 512 : at * 2)
            {
                if (!Bytes(at, 8).AsSpan().SequenceEqual(signature))
                {
                    continue;
                }
                byte version = Bytes(at + 8, 1)[0];
                if (version <= 1)
                {
                    var head = Bytes(at + 8, 16);
                    SetSizes(head[5], head[6]);
                    long p = at + 24 + (version == 1 ? 4 : 0);
                    _base = BaseAddress(p);
                    p += 4 * _sizeOfOffsets; // base, free-space, end-of-file, driver-info addresses
                    // Root group symbol table entry: name offset, header address, cache type, reserved, scratch pad.
                    ulong header = Offset(p + _sizeOfOffsets);
                    uint cacheType = U32(p + (2 * _sizeOfOffsets));
                    long scratch = p + (2 * _sizeOfOffsets) + 8;
                    return cacheType == 1 ? new Ref(header, Offset(scratch), Offset(scratch + _sizeOfOffsets)) : new Ref(header, 0, 0);
                }
                if (version is 2 or 3)
                {
                    var head = Bytes(at + 9, 2);
                    SetSizes(head[0], head[1]);
                    long p = at + 12;
                    _base = BaseAddress(p);
                    return new Ref(Offset(p + (3 * _sizeOfOffsets)), 0, 0);
                }
                throw Corrupt($"superblock version {version} is unknown");
            }
            return null;
        }

        private long BaseAddress(long at)
        {
            ulong value = Offset(at);
            return value < (ulong)_length ? (long)value : throw Corrupt($"base address {value} lies outside the file ({_length} bytes)");
        }

        private void SetSizes(int offsets, int lengths)
        {
            if (offsets is not (2 or 4 or 8) || lengths is not (2 or 4 or 8))
            {
                throw Corrupt($"superblock gives {offsets}-byte offsets and {lengths}-byte lengths");
            }
            _sizeOfOffsets = offsets;
            _sizeOfLengths = lengths;
            _undefined = offsets == 8 ? ulong.MaxValue : (1UL << (8 * offsets)) - 1;
        }

        // The links of the object at `at`, or null when it is not a group. Each object is read once.
        private Group? Load(Ref at)
        {
            if (_groups.TryGetValue(at, out var known))
            {
                return known;
            }
            if (_groups.Count >= MaxObjects)
            {
                throw new CremaException($"{path}: more than {MaxObjects} objects; too many to check");
            }
            var group = new Group();
            bool isGroup = false;
            if (at.CachedBTree != 0 && at.CachedBTree != _undefined)
            {
                ReadSymbolTable(at.CachedBTree, at.CachedHeap, group);
                isGroup = true;
            }
            foreach (var (type, start, size) in Messages(at.Address))
            {
                switch (type)
                {
                    case 0x11: // symbol table: v1 B-tree and local heap of an old-style group
                        Need(size, 2 * _sizeOfOffsets);
                        ReadSymbolTable(Offset(start), Offset(start + _sizeOfOffsets), group);
                        isGroup = true;
                        break;
                    case 0x02: // link info: dense storage (fractal heap + B-tree v2 name index) when the index is named
                        isGroup = true;
                        ReadDenseLinks(start, size, group);
                        break;
                    case 0x08: // data layout: a chunked dataset's B-tree, which PureHDF also walks recursively
                        CheckChunkIndex(start, size);
                        break;
                    case 0x06: // link (compact storage)
                        isGroup = true;
                        ReadLinkMessage(start, size, group);
                        break;
                    default:
                        break;
                }
            }
            var result = isGroup ? group : null;
            _groups[at] = result;
            return result;
        }

        // Layout versions 1–3 index chunks with a v1 B-tree (type 1). PureHDF recurses into child nodes by the level
        // each node claims, so a node that points back at itself or an ancestor recurses until the stack overflows;
        // each node is visited once here, and a repeat is refused.
        private void CheckChunkIndex(long start, long size)
        {
            Need(size, 3);
            var h = Bytes(start, 3);
            (int cls, int dimensionality, long addressAt) = h[0] switch
            {
                1 or 2 => (h[2], h[1], start + 8), // version, dimensionality, class, 5 reserved, address
                3 => (h[1], h[2], start + 3),      // version, class, dimensionality, address
                _ => (0, 0, 0L),
            };
            if (cls != 2)
            {
                return;
            }
            Need(size, addressAt - start + _sizeOfOffsets);
            ulong root = Offset(addressAt);
            if (root == _undefined)
            {
                return; // no chunk written yet
            }
            int keySize = 8 + (8 * dimensionality); // chunk size (4), filter mask (4), one 8-byte offset per dimension
            var nodes = new Stack<ulong>();
            var visited = new HashSet<ulong>();
            nodes.Push(root);
            while (nodes.Count > 0)
            {
                ulong node = nodes.Pop();
                if (!visited.Add(node) || ++_work > MaxObjects)
                {
                    throw Corrupt("a chunked dataset's B-tree refers to a node twice");
                }
                long at = Abs(node);
                Signature(at, "TREE", "chunk B-tree node");
                var head = Bytes(at + 4, 4);
                if (head[0] != 1)
                {
                    throw Corrupt($"chunk B-tree node has type {head[0]}");
                }
                if (head[1] == 0)
                {
                    continue; // leaf: the children are chunks
                }
                int entries = head[2] | (head[3] << 8);
                long p = at + 8 + (2 * _sizeOfOffsets);
                for (int i = 0; i < entries; i++)
                {
                    nodes.Push(Offset(p + keySize + ((long)i * (keySize + _sizeOfOffsets))));
                }
            }
        }

        private void ReadDenseLinks(long start, long size, Group group)
        {
            Need(size, 2);
            var head = Bytes(start, 2);
            // version, flags, [max creation index 8], fractal heap (O), name index B-tree (O): PureHDF reads a
            // group as dense when the name index is defined.
            long p = start + 2 + ((head[1] & 1) != 0 ? 8 : 0);
            Need(size, p - start + (2 * _sizeOfOffsets));
            ulong index = Offset(p + _sizeOfOffsets);
            if (index == _undefined)
            {
                return;
            }
            var heap = ReadFractalHeap(Offset(p));
            // B-tree v2 header: "BTHD", version, type, node size (4), record size (2), depth (2), split %, merge %,
            // root node (O), records in root (2), total records (L), checksum. Type 5 = link names: hash (4) + heap ID.
            long at = Abs(index);
            Signature(at, "BTHD", "link name index");
            var bt = Bytes(at + 4, 12);
            int recordSize = bt[6] | (bt[7] << 8);
            int depth = bt[8] | (bt[9] << 8);
            if (bt[1] != 5 || recordSize < 4 + heap.IdLength)
            {
                throw Corrupt($"link name index has type {bt[1]} and {recordSize}-byte records");
            }
            if (depth != 0)
            {
                throw new CremaException($"{path}: a group holds more links than one B-tree node (dense storage, depth {depth}); Crema cannot check so many links in one group");
            }
            long root = Abs(Offset(at + 16));
            int count = Bytes(at + 16 + _sizeOfOffsets, 2) is var c ? c[0] | (c[1] << 8) : 0;
            Signature(root, "BTLF", "link name index leaf");
            for (int i = 0; i < count; i++)
            {
                var id = Bytes(root + 6 + ((long)i * recordSize) + 4, heap.IdLength);
                var (objectAt, length) = heap.Locate(this, id);
                ReadLinkMessage(objectAt, length, group);
            }
        }

        public void Signature(long at, string expected, string what)
        {
            if (Encoding.ASCII.GetString(Bytes(at, 4)) != expected)
            {
                throw Corrupt($"{what} signature missing");
            }
        }

        // The parts of a fractal heap header (FRHP) needed to find a managed object from its heap ID.
        private sealed record FractalHeap(int IdLength, int OffsetBytes, int LengthBytes, int Width, long StartBlock, long RootBlock, int RootRows, int MaxDirectRows)
        {
            public (long At, long Length) Locate(Walker w, byte[] id)
            {
                if ((id[0] >> 4 & 3) != 0)
                {
                    throw w.Corrupt("a link is stored as a huge or tiny heap object");
                }
                long offset = (long)w.Little(id, 1, OffsetBytes);
                long length = (long)w.Little(id, 1 + OffsetBytes, LengthBytes);
                long block;
                long within;
                if (RootRows == 0)
                {
                    (block, within) = (RootBlock, offset);
                }
                else
                {
                    if (RootRows > MaxDirectRows)
                    {
                        throw new CremaException($"{w.Path}: a group's link heap has nested indirect blocks; Crema cannot check so many links in one group");
                    }
                    // Root indirect block (FHIB): signature, version, heap header (O), block offset, then one
                    // direct block address per slot, row by row: rows 0 and 1 hold start-size blocks, each later
                    // row doubles.
                    long at = w.Abs((ulong)RootBlock);
                    w.Signature(at, "FHIB", "fractal heap indirect block");
                    long entries = at + 5 + w.OffsetSize + OffsetBytes;
                    long rowStart = 0;
                    int row = 0;
                    for (; row < RootRows; row++)
                    {
                        long blockSize = row <= 1 ? StartBlock : StartBlock << (row - 1);
                        if (offset < rowStart + (Width * blockSize))
                        {
                            long column = (offset - rowStart) / blockSize;
                            ulong address = w.OffsetAt(entries + (((row * Width) + column) * w.OffsetSize));
                            (block, within) = ((long)address, offset - rowStart - (column * blockSize));
                            goto found;
                        }
                        rowStart += Width * blockSize;
                    }
                    throw w.Corrupt($"heap offset {offset} lies past the link heap's blocks");
                found:;
                }
                long start = w.Abs((ulong)block);
                w.Signature(start, "FHDB", "fractal heap direct block");
                return (start + within, length);
            }
        }
    }
}
