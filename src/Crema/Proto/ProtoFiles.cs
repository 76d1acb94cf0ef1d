using Crema.Proto.TextFormat;
using Google.Protobuf;

namespace Crema.Proto;

/// <summary>Reads and writes Caffe's files: text nets and solvers, binary .caffemodel / .binaryproto, with upgrades on load.</summary>
public static class ProtoFiles
{
    /// <summary>Parses a .prototxt net and upgrades V0/V1 definitions.</summary>
    public static NetParameter ReadNetText(string path)
    {
        var net = ReadText<NetParameter>(path);
        net = NetUpgrader.NeedsUpgrade(net) ? NetUpgrader.Upgrade(net, path) : net;
        SourceFolders.AddOrUpdate(net, Path.GetDirectoryName(Path.GetFullPath(path))!);
        return net;
    }

    // The folder of the .prototxt each parsed net came from, so `new Net(ReadNetText(path), …)` resolves a Python layer's
    // relative module against the prototxt (as the CLI does) without the caller passing it. Weak: a dropped net frees its entry.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<NetParameter, string> SourceFolders = [];

    /// <summary>The folder of the text file <paramref name="net"/> was read from by <see cref="ReadNetText"/>, or null.</summary>
    public static string? SourceFolderOf(NetParameter net) => SourceFolders.TryGetValue(net, out string? folder) ? folder : null;

    /// <summary>Parses a binary NetParameter (.caffemodel) and upgrades V0/V1 definitions.</summary>
    public static NetParameter ReadNetBinary(string path)
    {
        var net = ReadBinary(path, NetParameter.Parser, "Caffe NetParameter (.caffemodel)");
        if (net.Layer.Count == 0 && net.Layers.Count == 0)
            throw new CremaException($"'{path}' is not a Caffe NetParameter (.caffemodel): it holds no layers");
        return NetUpgrader.NeedsUpgrade(net) ? NetUpgrader.Upgrade(net, path) : net;
    }

    /// <summary>Reads a net as text or binary: by extension, else by looking at the content.</summary>
    public static NetParameter ReadNet(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        switch (ext)
        {
            case ".prototxt" or ".pbtxt":
                return ReadNetText(path);
            case ".caffemodel" or ".binaryproto" or ".pb":
                return ReadNetBinary(path);
        }
        return LooksLikeText(path) ? ReadNetText(path) : ReadNetBinary(path);
    }

    /// <summary>Parses a solver .prototxt and upgrades the deprecated solver_type.</summary>
    public static SolverParameter ReadSolver(string path)
    {
        var solver = ReadText<SolverParameter>(path);
        NetUpgrader.UpgradeSolver(solver, path);
        return solver;
    }

    /// <summary>Reads a binary BlobProto (e.g. a mean file, .binaryproto).</summary>
    public static BlobProto ReadBlobProto(string path) => ReadBinary(path, BlobProto.Parser, "BlobProto (.binaryproto)");

    /// <summary>Reads any text-format message.</summary>
    public static T ReadText<T>(string path) where T : IMessage<T>, new()
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Cannot read '{path}': {Describe(e)}", e);
        }
        return PrototxtParser.Parse<T>(text, path);
    }

    /// <summary>Reads any binary message; streams from disk, so multi-hundred-MB models are fine.</summary>
    public static T ReadBinary<T>(string path, MessageParser<T> parser, string what) where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Cannot read {what} '{path}': {Describe(e)}", e);
        }
        catch (ArgumentException e)
        {
            // An empty name or one with a NUL (e.g. a damaged learned_net in a .solverstate) is not a path.
            throw new CremaException($"Cannot read {what} '{path.Replace("\0", "\\0", StringComparison.Ordinal)}': not a valid file name", e);
        }
        using (stream)
        {
            long length = stream.Length;
            if (length == 0)
                throw new CremaException($"'{path}' is empty: expected a {what}");
            try
            {
                // Size limit raised from protobuf's default so multi-GB models parse; recursion limit kept.
                using var input = CodedInputStream.CreateWithLimits(stream, int.MaxValue, 100);
                return parser.ParseFrom(input);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new CremaException(
                    $"'{path}' is truncated or not a {what} ({length} bytes; protobuf says: {e.Message})", e);
            }
            catch (IOException e)
            {
                throw new CremaException($"Cannot read {what} '{path}': {e.Message}", e);
            }
        }
    }

    /// <summary>Writes binary protobuf via a temporary file so a crash never leaves a half-written file.</summary>
    public static void WriteBinaryAtomic(IMessage message, string path)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteAtomic(path, stream =>
        {
            using var output = new CodedOutputStream(stream, leaveOpen: true);
            message.WriteTo(output);
            output.Flush();
        });
    }

    /// <summary>Writes text format via a temporary file.</summary>
    public static void WriteTextAtomic(IMessage message, string path)
    {
        ArgumentNullException.ThrowIfNull(message);
        string text = PrototxtPrinter.Print(message);
        WriteAtomic(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write(text);
        });
    }

    private static void WriteAtomic(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder))
            throw new CremaException($"Cannot write '{path}': folder '{folder}' does not exist");
        string tmp = full + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new CremaException($"Cannot write '{path}': {Describe(e)}", e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original error matters more than a leftover temporary file.
        }
    }

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException => "file not found",
        DirectoryNotFoundException => "folder not found",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    /// <summary>Binary protobuf almost always has control bytes in its first KB; prototxt never does.</summary>
    private static bool LooksLikeText(string path)
    {
        Span<byte> head = stackalloc byte[1024];
        int n;
        try
        {
            using var stream = File.OpenRead(path);
            n = stream.Read(head);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Cannot read net '{path}': {Describe(e)}", e);
        }
        foreach (byte b in head[..n])
        {
            if (b < 0x20 && b is not ((byte)'\n' or (byte)'\r' or (byte)'\t'))
                return false;
        }
        return true;
    }
}
