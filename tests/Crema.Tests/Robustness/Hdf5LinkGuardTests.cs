using System.Buffers.Binary;
using System.Text;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Proto.TextFormat;
using Crema.Tests.Data;
using PureHDF;

namespace Crema.Tests.Robustness;

/// <summary>
/// Soft links that would send PureHDF into endless recursion (a fatal stack overflow) are refused before PureHDF
/// opens the file; valid files, including ones with sound soft links, still read.
/// </summary>
public class Hdf5LinkGuardTests
{
    private static readonly string Hdf5Data = RepoPaths.Get("tests", "Crema.Tests", "TestData", "hdf5");

    private static H5Dataset Floats(params int[] shape) =>
        new(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => (float)i).ToArray(), fileDims: shape.Select(s => (ulong)s).ToArray());

    /// <summary>A PureHDF-written file (compact links, object header v2) with a chain of <paramref name="length"/> soft links ending at "data".</summary>
    internal static void WriteChain(string path, int length, bool closed = false)
    {
        var file = new H5File { ["data"] = Floats(4, 3), ["label"] = Floats(4) };
        for (int i = 0; i < length; i++)
        {
            file[$"s{i}"] = new H5SoftLink(i == length - 1 ? (closed ? "s0" : "data") : $"s{i + 1}");
        }
        file.Write(path);
    }

    /// <summary>
    /// Caffe's own sample_data.h5 (libhdf5, superblock 0, old-style symbol-table root) with root entries turned into
    /// soft links by hand: entry <c>name</c> becomes a cache-type-2 entry whose value is the heap name <c>target</c>.
    /// </summary>
    internal static byte[] OldStyleWithSoftLinks(params (string Name, string Target)[] links)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(Hdf5Data, "sample_data.h5"));
        Assert.Equal(8, bytes[13]); // 8-byte offsets
        Assert.Equal(8, bytes[14]); // 8-byte lengths
        int heap = IndexOf(bytes, "HEAP");
        long heapData = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(heap + 24));
        int snod = IndexOf(bytes, "SNOD");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(snod + 6));
        var nameOffsets = new Dictionary<string, uint>();
        for (int i = 0; i < count; i++)
        {
            int e = snod + 8 + (i * 40);
            uint offset = (uint)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(e));
            int start = (int)(heapData + offset);
            nameOffsets[Encoding.ASCII.GetString(bytes, start, Array.IndexOf(bytes, (byte)0, start) - start)] = offset;
        }
        foreach (var (name, target) in links)
        {
            for (int i = 0; i < count; i++)
            {
                int e = snod + 8 + (i * 40);
                if ((uint)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(e)) == nameOffsets[name])
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(e + 16), 2);
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(e + 24), nameOffsets[target]);
                }
            }
        }
        return bytes;
    }

    private static int IndexOf(byte[] bytes, string ascii)
    {
        int at = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(ascii));
        Assert.True(at >= 0, ascii + " not found");
        return at;
    }

    private static string Refused(string path) => Assert.Throws<CremaException>(() => Hdf5LinkGuard.Check(path)).Message;

    [Fact]
    public void SelfLink_IsRefused_NamingFileAndLink()
    {
        using var d = new TempDir();
        string path = d.Combine("self.h5");
        new H5File { ["data"] = Floats(2), ["x"] = new H5SoftLink("x") }.Write(path);
        string message = Refused(path);
        Assert.StartsWith(path + ":", message, StringComparison.Ordinal);
        Assert.Contains("soft link '/x' is part of a cycle", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("b", "a")]       // a → b → a
    [InlineData("/b", "/a")]     // rooted paths
    [InlineData("g/y", "/a")]    // through a path segment inside a group
    public void TwoCycle_IsRefused(string aTarget, string bTarget)
    {
        using var d = new TempDir();
        string path = d.Combine("cycle.h5");
        var file = new H5File { ["a"] = new H5SoftLink(aTarget), ["b"] = new H5SoftLink(bTarget) };
        file["g"] = new H5Group { ["y"] = new H5SoftLink("/b"), ["z"] = Floats(2) };
        file.Write(path);
        Assert.Contains("is part of a cycle", Refused(path), StringComparison.Ordinal);
    }

    [Fact]
    public void CycleThroughASoftLinkedGroup_IsRefused()
    {
        // "/g2" names group g; "/g/loop" → "/g2/loop" resolves back to itself.
        using var d = new TempDir();
        string path = d.Combine("g.h5");
        var file = new H5File { ["g2"] = new H5SoftLink("/g") };
        file["g"] = new H5Group { ["loop"] = new H5SoftLink("/g2/loop") };
        file.Write(path);
        Assert.Contains("'/g/loop' is part of a cycle", Refused(path), StringComparison.Ordinal);
    }

    [Fact]
    public void ChainOfSixteen_Reads_ChainOfSeventeen_IsRefused()
    {
        using var d = new TempDir();
        string ok = d.Combine("ok.h5");
        WriteChain(ok, Hdf5LinkGuard.MaxSoftLinkHops);
        Hdf5LinkGuard.Check(ok);
        var (values, shape) = Hdf5Datasets.ReadFloats(ok, "s0"); // PureHDF follows the 16 links to "data"
        Assert.Equal([4, 3], shape);
        Assert.Equal(11f, values[11]);

        string tooLong = d.Combine("long.h5");
        WriteChain(tooLong, Hdf5LinkGuard.MaxSoftLinkHops + 1);
        Assert.Contains("chain of more than 16 soft links", Refused(tooLong), StringComparison.Ordinal);
    }

    [Fact]
    public void TenThousandDeepChain_IsRefusedQuickly()
    {
        using var d = new TempDir();
        string path = d.Combine("deep.h5");
        WriteChain(path, 10_000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Contains("chain of more than 16 soft links", Refused(path), StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public void ClosedChain_IsRefused()
    {
        using var d = new TempDir();
        string path = d.Combine("ring.h5");
        WriteChain(path, 5, closed: true);
        Assert.Contains("is part of a cycle", Refused(path), StringComparison.Ordinal);
    }

    [Fact]
    public void DanglingSoftLink_IsHarmless()
    {
        using var d = new TempDir();
        string path = d.Combine("dangling.h5");
        new H5File { ["data"] = Floats(3), ["label"] = Floats(3), ["gone"] = new H5SoftLink("/nowhere/x") }.Write(path);
        Hdf5LinkGuard.Check(path);
        Assert.Equal(3, Hdf5Datasets.ReadFloats(path, "data").Values.Length);
    }

    [Fact]
    public void OldStyleFile_SelfLinkAndTwoCycle_AreRefused()
    {
        using var d = new TempDir();
        string self = d.Combine("self.h5");
        File.WriteAllBytes(self, OldStyleWithSoftLinks(("label", "label")));
        Assert.Contains("soft link '/label' is part of a cycle", Refused(self), StringComparison.Ordinal);
        Assert.Contains("cycle", Assert.Throws<CremaException>(() => Hdf5Datasets.ReadFloats(self, "data")).Message, StringComparison.Ordinal);

        string cycle = d.Combine("cycle.h5");
        File.WriteAllBytes(cycle, OldStyleWithSoftLinks(("label", "data"), ("data", "label")));
        Assert.Contains("is part of a cycle", Refused(cycle), StringComparison.Ordinal);
    }

    [Fact]
    public void OldStyleFile_SoundSoftLink_ReadsThroughIt()
    {
        // label → data: PureHDF reads "label" as the data set "data" (10×8×6×5 floats in Caffe's sample).
        using var d = new TempDir();
        string path = d.Combine("alias.h5");
        File.WriteAllBytes(path, OldStyleWithSoftLinks(("label", "data")));
        Hdf5LinkGuard.Check(path);
        var original = Hdf5Datasets.ReadFloats(Path.Combine(Hdf5Data, "sample_data.h5"), "data");
        var aliased = Hdf5Datasets.ReadFloats(path, "label");
        Assert.Equal(original.Shape, aliased.Shape);
        Assert.Equal(original.Values, aliased.Values);
    }

    [Theory]
    [InlineData("softlink_cycle_libhdf5.h5", "soft link '/label' is part of a cycle")]
    [InlineData("softlink_self_latest.h5", "soft link '/label' is part of a cycle")]
    [InlineData("dense_softlink_cycle_latest.h5", "is part of a cycle")]
    [InlineData("dense_links_many_latest.h5", "more links than one B-tree node")]
    public void FilesWrittenByLibhdf5_AreRefused(string name, string expect)
    {
        string path = Path.Combine(Hdf5Data, name);
        Assert.Contains(expect, Refused(path), StringComparison.Ordinal);
        var e = Assert.Throws<CremaException>(() => Hdf5Datasets.ReadFloats(path, "data"));
        Assert.StartsWith($"{path}: ", e.Message, StringComparison.Ordinal);
    }

    /// <summary>chunked_many.h5 with the level-1 chunk B-tree node's first child pointing back at the node itself.</summary>
    internal static byte[] ChunkBTreeCycle()
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(Hdf5Data, "chunked_many.h5"));
        for (int at = 0; at + 8 < bytes.Length; at++)
        {
            if (bytes.AsSpan(at).StartsWith("TREE"u8) && bytes[at + 4] == 1 && bytes[at + 5] == 1)
            {
                // "TREE", type, level, entries (2), siblings (2×8), key (4 + 4 + 2×8 for a 1-D dataset), child (8)
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at + 8 + 16 + 24), (ulong)at);
                return bytes;
            }
        }
        throw new InvalidOperationException("no level-1 chunk B-tree node");
    }

    [Fact]
    public void ChunkedDataset_ReadsThroughItsTwoLevelBTree()
    {
        string path = Path.Combine(Hdf5Data, "chunked_many.h5");
        Hdf5LinkGuard.Check(path);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (float)i), Hdf5Datasets.ReadFloats(path, "data").Values);
    }

    [Fact]
    public void ChunkBTreeThatPointsAtItself_IsRefused()
    {
        // PureHDF would recurse into the node forever (a fatal stack overflow); the check refuses it first.
        using var d = new TempDir();
        string path = d.Combine("x.h5");
        File.WriteAllBytes(path, ChunkBTreeCycle());
        Assert.Contains("chunked dataset's B-tree refers to a node twice", Refused(path), StringComparison.Ordinal);
        Assert.StartsWith(path + ": ", Assert.Throws<CremaException>(() => Hdf5Datasets.ReadFloats(path, "label")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DenseLinkStorage_IsChecked_AndReads()
    {
        // 12 links in a fractal heap with a B-tree v2 name index (libver latest): every name is found, none a soft link.
        string path = Path.Combine(Hdf5Data, "dense_links_latest.h5");
        Hdf5LinkGuard.Check(path);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), Hdf5Datasets.ReadFloats(path, "data").Values);
        Assert.Equal([0f, 1f, 2f, 3f], Hdf5Datasets.ReadFloats(path, "label").Values);
    }

    [Fact]
    public void SoundSoftLinkWrittenByLibhdf5_ReadsThroughIt()
    {
        string path = Path.Combine(Hdf5Data, "softlink_ok_libhdf5.h5");
        Hdf5LinkGuard.Check(path);
        var (values, shape) = Hdf5Datasets.ReadFloats(path, "label");
        Assert.Equal([4], shape);
        Assert.Equal([0f, 1f, 2f, 3f], values);
    }

    [Theory]
    [InlineData("sample_data.h5")]
    [InlineData("sample_data_2_gzip.h5")]
    public void CaffesSampleFiles_Pass(string name) => Hdf5LinkGuard.Check(Path.Combine(Hdf5Data, name));

    [Fact]
    public void CremaWrittenWeightsAndSolverState_Pass()
    {
        using var d = new TempDir();
        using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "deploy.prototxt"), Phase.Test);
        var weights = net.Layers[1].Blobs[0].Data;
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (i % 7) - 3.5f;
        }
        net.SaveHdf5(d.Combine("w.caffemodel.h5"));
        Hdf5LinkGuard.Check(d.Combine("w.caffemodel.h5"));
        using var copy = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "deploy.prototxt"), Phase.Test);
        copy.CopyTrainedLayersFrom(d.Combine("w.caffemodel.h5"));
        Assert.Equal(net.Layers[1].Blobs[0].Data.ToArray(), copy.Layers[1].Blobs[0].Data.ToArray());
    }

    [Fact]
    public void WeightsWithACycle_GiveOneErrorNamingTheFile()
    {
        using var d = new TempDir();
        string path = d.Combine("w.caffemodel.h5");
        new H5File { ["data"] = new H5Group { ["conv"] = new H5SoftLink("conv") } }.Write(path);
        using var net = new Net(PrototxtParser.Parse<NetParameter>(BadFiles.Deploy, "deploy.prototxt"), Phase.Test);
        var e = Assert.Throws<CremaException>(() => net.CopyTrainedLayersFrom(path));
        Assert.Contains(path + ": soft link '/data/conv' is part of a cycle", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalLink_IsRefused()
    {
        // Link message with link type 64 (external) written by hand into a PureHDF file: rename a soft link's type.
        using var d = new TempDir();
        string path = d.Combine("ext.h5");
        new H5File { ["data"] = Floats(2), ["e"] = new H5SoftLink("zz") }.Write(path);
        byte[] bytes = File.ReadAllBytes(path);
        // the soft link's message: version 1, flags, link type 1, charset, name length (4 bytes), "e", value length (2), "zz"
        int name = IndexOf(bytes, "zz") - 3;
        Assert.Equal((byte)'e', bytes[name]);
        Assert.Equal(1, bytes[name - 8]);
        Assert.Equal(1, bytes[name - 6]);
        bytes[name - 6] = 64;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("external links are not followed", Refused(path), StringComparison.Ordinal);
    }
}
