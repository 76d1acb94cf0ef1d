using Crema.Proto;
using Google.Protobuf;

namespace Crema.Nets;

/// <summary>Reads and writes .caffemodel files (binary NetParameter), upgrading legacy V1 layers.</summary>
public static class WeightFiles
{
    public static NetParameter Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CremaException($"{path}: weights file not found");
        }
        NetParameter net;
        try
        {
            using var stream = File.OpenRead(path);
            net = NetParameter.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CremaException($"{path}: not a valid .caffemodel (binary NetParameter): {e.Message}", e);
        }
        if (net.Layer.Count == 0 && net.Layers.Count == 0)
        {
            throw new CremaException($"{path}: the file holds no layers; is it a .caffemodel?");
        }
        return ProtoUpgrade.UpgradeNet(net, path);
    }

    public static void Write(IMessage message, string path) => AtomicFile.Write(path, stream => message.WriteTo(stream));
}

/// <summary>Writes a file through a temporary sibling and a rename, so readers never see half a file.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder != null && !Directory.Exists(folder))
        {
            throw new CremaException($"{path}: cannot write, folder '{folder}' does not exist");
        }
        string temp = full + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            throw new CremaException($"{path}: cannot write: {e.Message}", e);
        }
    }
}
