using System.CommandLine;
using Crema.Data;

namespace Crema.Cli.Commands;

/// <summary>Caffe's -backend flag of the converters: lmdb (the default) or leveldb.</summary>
internal static class BackendOption
{
    public static Option<string> Create() => new("--backend")
    {
        Description = "The db backend: lmdb or leveldb.",
        DefaultValueFactory = _ => "lmdb",
    };

    public static DbBackend Parse(string? value)
    {
        try
        {
            return KeyValueDb.ParseBackend(value);
        }
        catch (CremaException)
        {
            throw new CremaException($"-backend {value}: unknown db backend (use lmdb or leveldb)");
        }
    }
}
