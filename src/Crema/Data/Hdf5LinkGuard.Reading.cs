using System.Buffers.Binary;
using System.Text;

namespace Crema.Data;

// The walker's readers of HDF5 structures (fractal heaps, link and symbol-table messages, object header messages) and its
// bounds-checked byte access; the walk itself is in Hdf5LinkGuard.cs.
public static partial class Hdf5LinkGuard
{
    private sealed partial class Walker
    {
        private FractalHeap ReadFractalHeap(ulong address)
        {
            // FRHP: signature, version, heap ID length (2), filter info length (2), flags, max managed object (4),
            // 10 lengths and 2 addresses of bookkeeping, table width (2), start block size (L), max direct block
            // size (L), max heap size in bits (2), start rows (2), root block (O), current root rows (2).
            long at = Abs(address);
            Signature(at, "FRHP", "fractal heap");
            var h = Bytes(at + 5, 9);
            int idLength = h[0] | (h[1] << 8);
            int filters = h[2] | (h[3] << 8);
            uint maxManaged = BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(5));
            if (filters != 0)
            {
                throw new CremaException($"{path}: a group's links are stored compressed; Crema cannot check them");
            }
            long p = at + 14 + (10 * _sizeOfLengths) + (2 * _sizeOfOffsets);
            int width = Bytes(p, 2) is var wb ? wb[0] | (wb[1] << 8) : 0;
            long startBlock = (long)Unsigned(p + 2, _sizeOfLengths);
            long maxDirect = (long)Unsigned(p + 2 + _sizeOfLengths, _sizeOfLengths);
            p += 2 + (2 * _sizeOfLengths);
            var t = Bytes(p, 4);
            int maxHeapBits = t[0] | (t[1] << 8);
            long root = (long)Offset(p + 4);
            var r = Bytes(p + 4 + _sizeOfOffsets, 2);
            int rootRows = r[0] | (r[1] << 8);
            if (idLength is < 2 or > 64 || width is < 1 or > 65536 || maxHeapBits is < 1 or > 64 || !IsPowerOfTwo(startBlock) || !IsPowerOfTwo(maxDirect) || maxDirect < startBlock || maxManaged == 0)
            {
                throw Corrupt("fractal heap header is inconsistent");
            }
            int offsetBytes = (maxHeapBits + 7) / 8;
            // libhdf5: min(bytes for an offset within the largest direct block, bytes to encode the largest object)
            int lengthBytes = Math.Min((System.Numerics.BitOperations.Log2((ulong)maxDirect) + 7) / 8, (System.Numerics.BitOperations.Log2(maxManaged) / 8) + 1);
            int maxDirectRows = System.Numerics.BitOperations.Log2((ulong)maxDirect) - System.Numerics.BitOperations.Log2((ulong)startBlock) + 2;
            if (1 + offsetBytes + lengthBytes > idLength)
            {
                throw Corrupt("fractal heap IDs are too short for their offsets");
            }
            return new FractalHeap(idLength, offsetBytes, lengthBytes, width, startBlock, root, rootRows, maxDirectRows);
        }

        private static bool IsPowerOfTwo(long v) => v > 0 && (v & (v - 1)) == 0;

        public string Path => path;

        public int OffsetSize => _sizeOfOffsets;

        public ulong OffsetAt(long at) => Offset(at);

        public ulong Little(byte[] bytes, int start, int count)
        {
            if (start + count > bytes.Length || count > 8)
            {
                throw Corrupt("a heap ID is too short");
            }
            ulong v = 0;
            for (int i = count - 1; i >= 0; i--)
            {
                v = (v << 8) | bytes[start + i];
            }
            return v;
        }

        private void ReadLinkMessage(long start, long size, Group group)
        {
            long end = start + size;
            var head = Bytes(start, 2);
            if (head[0] != 1)
            {
                throw Corrupt($"link message version {head[0]}");
            }
            byte flags = head[1];
            long p = start + 2;
            int type = 0;
            if ((flags & 0x08) != 0)
            {
                type = Bytes(p++, 1)[0];
            }
            p += (flags & 0x04) != 0 ? 8 : 0;
            p += (flags & 0x10) != 0 ? 1 : 0;
            int lengthSize = 1 << (flags & 3);
            ulong nameLength = Unsigned(p, lengthSize);
            p += lengthSize;
            if (nameLength > MaxNameBytes || p + (long)nameLength > end)
            {
                throw Corrupt("link name runs past its message");
            }
            string name = Encoding.UTF8.GetString(Bytes(p, (int)nameLength));
            p += (long)nameLength;
            Link link;
            if (type == 0)
            {
                Need(end - p, _sizeOfOffsets);
                link = new Link(LinkKind.Hard, Offset(p), "");
            }
            else
            {
                Need(end - p, 2);
                int valueLength = Bytes(p, 2)[0] | (Bytes(p + 1, 1)[0] << 8);
                if (p + 2 + valueLength > end)
                {
                    throw Corrupt($"link '{name}' value runs past its message");
                }
                string value = Encoding.UTF8.GetString(Bytes(p + 2, valueLength)).TrimEnd('\0');
                link = type == 1 ? new Link(LinkKind.Soft, 0, value) : new Link(LinkKind.External, 0, value.Length > 1 ? value[1..].Replace('\0', ':') : value);
            }
            group.Links[name] = link;
        }

        private void ReadSymbolTable(ulong btree, ulong heap, Group group)
        {
            // Local heap: "HEAP", version, 3 reserved, data size (L), free list offset (L), data address (O).
            long heapAt = Abs(heap);
            if (Encoding.ASCII.GetString(Bytes(heapAt, 4)) != "HEAP")
            {
                throw Corrupt("local heap signature missing");
            }
            ulong dataSize = Unsigned(heapAt + 8, _sizeOfLengths);
            long data = Abs(Offset(heapAt + 8 + (2 * _sizeOfLengths)));
            var nodes = new Stack<ulong>();
            var visited = new HashSet<ulong>();
            nodes.Push(btree);
            while (nodes.Count > 0)
            {
                ulong node = nodes.Pop();
                if (!visited.Add(node) || ++_work > MaxObjects)
                {
                    throw Corrupt("the B-tree of a group refers to a node twice");
                }
                long at = Abs(node);
                string sig = Encoding.ASCII.GetString(Bytes(at, 4));
                if (sig == "SNOD")
                {
                    ReadSymbolNode(at, data, dataSize, group);
                    continue;
                }
                if (sig != "TREE")
                {
                    throw Corrupt("group B-tree node signature missing");
                }
                // "TREE", type, level, entries used (2), left and right siblings (O), then key/child pairs + key.
                var head = Bytes(at + 4, 4);
                int entries = head[2] | (head[3] << 8);
                long p = at + 8 + (2 * _sizeOfOffsets);
                for (int i = 0; i < entries; i++)
                {
                    p += _sizeOfLengths;
                    nodes.Push(Offset(p));
                    p += _sizeOfOffsets;
                }
            }
        }

        private void ReadSymbolNode(long at, long heapData, ulong heapSize, Group group)
        {
            // "SNOD", version, reserved, symbol count (2), entries: name offset (O), header (O), cache type (4),
            // reserved (4), scratch pad (16): cache 1 = B-tree and heap addresses, cache 2 = soft link value offset.
            var head = Bytes(at + 4, 4);
            int count = head[2] | (head[3] << 8);
            int entrySize = (2 * _sizeOfOffsets) + 24;
            for (int i = 0; i < count; i++)
            {
                long e = at + 8 + ((long)i * entrySize);
                string name = HeapString(heapData, heapSize, Offset(e));
                ulong header = Offset(e + _sizeOfOffsets);
                uint cacheType = U32(e + (2 * _sizeOfOffsets));
                long scratch = e + (2 * _sizeOfOffsets) + 8;
                if (cacheType == 2)
                {
                    group.Links[name] = new Link(LinkKind.Soft, 0, HeapString(heapData, heapSize, U32(scratch)));
                    continue;
                }
                group.Links[name] = new Link(LinkKind.Hard, header, "");
                if (cacheType == 1)
                {
                    group.Cached[name] = new Ref(header, Offset(scratch), Offset(scratch + _sizeOfOffsets));
                }
            }
        }

        private string HeapString(long data, ulong size, ulong offset)
        {
            if (offset >= size)
            {
                throw Corrupt("a name lies outside its local heap");
            }
            long at = data + (long)offset;
            int max = (int)Math.Min(Math.Min(size - offset, MaxNameBytes), (ulong)Math.Max(0, _length - at));
            var bytes = Bytes(at, max);
            int end = Array.IndexOf(bytes, (byte)0);
            return Encoding.UTF8.GetString(bytes, 0, end < 0 ? bytes.Length : end);
        }

        // Every header message (type, data start, data size) of the object header at `address`, continuations included.
        private List<(int Type, long Start, long Size)> Messages(ulong address)
        {
            var result = new List<(int, long, long)>();
            long at = Abs(address);
            bool v2 = Encoding.ASCII.GetString(Bytes(at, 4)) == "OHDR";
            var blocks = new Queue<(long Start, long End)>();
            var visited = new HashSet<long>();
            if (v2)
            {
                // "OHDR", version 2, flags, [times 16], [attribute limits 4], chunk-0 size (1/2/4/8), messages, checksum.
                byte flags = Bytes(at + 5, 1)[0];
                long p = at + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
                int sizeBytes = 1 << (flags & 3);
                long chunk = checked((long)Unsigned(p, sizeBytes));
                blocks.Enqueue((p + sizeBytes, p + sizeBytes + chunk));
                while (blocks.Count > 0)
                {
                    var (start, end) = blocks.Dequeue();
                    int overhead = (flags & 0x04) != 0 ? 6 : 4;
                    for (long m = start; m + overhead <= end;)
                    {
                        var mh = Bytes(m, overhead);
                        int type = mh[0];
                        int size = mh[1] | (mh[2] << 8);
                        long data = m + overhead;
                        if (data + size > end)
                        {
                            throw Corrupt("an object header message runs past its block");
                        }
                        Add(result, blocks, visited, type, data, size, v2: true);
                        m = data + size;
                    }
                }
            }
            else
            {
                // Version 1: version, reserved, message count (2), reference count (4), header size (4), pad to 16;
                // each message: type (2), size (2), flags, 3 reserved, data padded to 8 bytes.
                var head = Bytes(at, 12);
                if (head[0] != 1)
                {
                    throw Corrupt($"object header at {address} has version {head[0]}");
                }
                long size = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8));
                blocks.Enqueue((at + 16, at + 16 + size));
                while (blocks.Count > 0)
                {
                    var (start, end) = blocks.Dequeue();
                    for (long m = start; m + 8 <= end;)
                    {
                        var mh = Bytes(m, 8);
                        int type = mh[0] | (mh[1] << 8);
                        int length = mh[2] | (mh[3] << 8);
                        if (m + 8 + length > end)
                        {
                            throw Corrupt("an object header message runs past its block");
                        }
                        Add(result, blocks, visited, type, m + 8, length, v2: false);
                        m += 8 + length;
                    }
                }
            }
            return result;
        }

        private void Add(List<(int, long, long)> messages, Queue<(long, long)> blocks, HashSet<long> visited, int type, long data, long size, bool v2)
        {
            if (++_work > MaxObjects)
            {
                throw Corrupt("too many object header messages");
            }
            if (type != 0x10)
            {
                messages.Add((type, data, size));
                return;
            }
            // Continuation: offset (O) and length (L) of the next block ("OCHK" … checksum in version 2).
            Need(size, _sizeOfOffsets + _sizeOfLengths);
            long at = Abs(Offset(data));
            long length = checked((long)Unsigned(data + _sizeOfOffsets, _sizeOfLengths));
            if (!visited.Add(at) || length < 0 || at + length > _length)
            {
                throw Corrupt("an object header continuation is out of range or repeated");
            }
            blocks.Enqueue(v2 ? (at + 4, at + length - 4) : (at, at + length));
        }

        private void Need(long have, long need)
        {
            if (have < need)
            {
                throw Corrupt("an object header message is shorter than its fields");
            }
        }

        public long Abs(ulong address)
        {
            if (address == _undefined || address >= (ulong)_length || _base + (long)address >= _length)
            {
                throw Corrupt($"address {address} lies outside the file ({_length} bytes)");
            }
            return _base + (long)address;
        }

        private ulong Offset(long at) => Unsigned(at, _sizeOfOffsets);

        private uint U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(at, 4));

        private ulong Unsigned(long at, int size)
        {
            var b = Bytes(at, size);
            ulong v = 0;
            for (int i = size - 1; i >= 0; i--)
            {
                v = (v << 8) | b[i];
            }
            return v;
        }

        private byte[] Bytes(long at, int count)
        {
            if (at < 0 || count < 0 || at + count > _length)
            {
                throw Corrupt($"a structure at byte {at} runs past the end of the file ({_length} bytes)");
            }
            var buffer = new byte[count];
            int read = RandomAccess.Read(handle, buffer, at);
            if (read != count)
            {
                throw Corrupt($"short read at byte {at}");
            }
            return buffer;
        }

        public CremaException Corrupt(string what) => new($"{path}: HDF5 file is corrupt: {what}");
    }
}
