namespace Crema.Data;

/// <summary>The database formats Caffe's Data layer and converters use (data_param.backend, -backend).</summary>
public enum DbBackend
{
    Lmdb,
    LevelDb,
}

/// <summary>A read cursor over a key/value database in byte order of the keys.</summary>
public interface IDbCursor : IDisposable
{
    /// <summary>False when the database is empty or <see cref="MoveNext"/> went past the last record.</summary>
    bool IsValid { get; }

    /// <summary>The current key; valid until the cursor moves.</summary>
    ReadOnlySpan<byte> Key { get; }

    /// <summary>The current value; valid until the cursor moves (copy it to keep it).</summary>
    ReadOnlySpan<byte> Value { get; }

    string KeyString { get; }

    void SeekToFirst();

    /// <summary>Moves to the next record; false (and <see cref="IsValid"/> false) after the last.</summary>
    bool MoveNext();

    /// <summary>Moves to the next record, restarting from the first after the last (Caffe's Data layer). True when it wrapped.</summary>
    bool Advance();
}

/// <summary>A database being written: keys in ascending byte order, readable once <see cref="Complete"/> returns.</summary>
public interface IDbWriter : IDisposable
{
    string Path { get; }

    long Count { get; }

    void Put(string key, ReadOnlySpan<byte> value);

    void Complete();

    /// <summary>For a failed conversion: removes what was written (and the folder when the writer created it) instead of completing it.</summary>
    void Abandon();
}

/// <summary>Opens or creates an LMDB or LevelDB database by backend, as Caffe's db::GetDB does.</summary>
public static class KeyValueDb
{
    /// <summary>Parses a -backend flag value ("lmdb" or "leveldb", any case).</summary>
    public static DbBackend ParseBackend(string? name) => name?.ToLowerInvariant() switch
    {
        "lmdb" => DbBackend.Lmdb,
        "leveldb" => DbBackend.LevelDb,
        _ => throw new CremaException($"unknown db backend '{name}' (use lmdb or leveldb)"),
    };

    public static string Name(DbBackend backend) => backend == DbBackend.LevelDb ? "leveldb" : "lmdb";

    /// <summary>Opens a database and a cursor on its first record; disposing the cursor closes the database.</summary>
    public static IDbCursor OpenCursor(string path, DbBackend backend)
    {
        if (backend == DbBackend.LevelDb)
        {
            var db = LevelDbDatabase.OpenRead(path);
            return Owning(db, db.OpenCursor);
        }
        var lmdb = LmdbDatabase.OpenRead(path);
        return Owning(lmdb, lmdb.OpenCursor);
    }

    private static OwningCursor Owning(IDisposable db, Func<IDbCursor> open)
    {
        IDbCursor? cursor = null;
        try
        {
            cursor = open();
            return new OwningCursor(cursor, db);
        }
        catch
        {
            cursor?.Dispose();
            db.Dispose();
            throw;
        }
    }

    public static IDbWriter Create(string path, DbBackend backend) =>
        backend == DbBackend.LevelDb ? LevelDbDatabase.Create(path) : LmdbDatabase.Create(path);

    /// <summary>A cursor that also closes its database.</summary>
    private sealed class OwningCursor(IDbCursor inner, IDisposable owner) : IDbCursor
    {
        public bool IsValid => inner.IsValid;

        public ReadOnlySpan<byte> Key => inner.Key;

        public ReadOnlySpan<byte> Value => inner.Value;

        public string KeyString => inner.KeyString;

        public void SeekToFirst() => inner.SeekToFirst();

        public bool MoveNext() => inner.MoveNext();

        public bool Advance() => inner.Advance();

        public void Dispose()
        {
            inner.Dispose();
            owner.Dispose();
        }
    }
}
