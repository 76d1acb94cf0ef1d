using Crema.Proto;
using Google.Protobuf;

namespace Crema.Nets;

/// <summary>Reads and writes .caffemodel files (binary NetParameter; legacy V0/V1 layers upgraded on load).</summary>
public static class WeightFiles
{
    public static NetParameter Read(string path) => ProtoFiles.ReadNetBinary(path);

    public static void Write(IMessage message, string path) => ProtoFiles.WriteBinaryAtomic(message, path);
}
