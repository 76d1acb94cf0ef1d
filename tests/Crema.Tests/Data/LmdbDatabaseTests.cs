using Crema.Data;
using Crema.Proto;

namespace Crema.Tests.Data;

public class LmdbDatabaseTests
{
    [Fact]
    public void WriteThenRead_IteratesInKeyOrderAndWraps()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        using (var writer = LmdbDatabase.Create(path))
        {
            for (int i = 0; i < 7; i++)
            {
                writer.Put(MnistConverter.Key(i), [(byte)i, (byte)(i * 2)]);
            }
        }

        using var read = LmdbDatabase.OpenRead(path);
        Assert.Equal(7, read.Count);
        using var cursor = read.OpenCursor();
        var seen = new List<int>();
        var wrapped = new List<bool>();
        for (int step = 0; step < 10; step++)
        {
            Assert.Equal(MnistConverter.Key(cursor.Value[0]), cursor.KeyString);
            seen.Add(cursor.Value[0]);
            wrapped.Add(cursor.Advance());
        }
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 0, 1, 2], seen);
        Assert.Equal([false, false, false, false, false, false, true, false, false, false], wrapped);
    }

    [Fact]
    public void WriteThenRead_ManyRecordsAndOverflowValues_RoundTrip()
    {
        // 60,000 small records need three B-tree levels; every 997th value is large enough for overflow pages.
        using var dir = new TempDir();
        string path = dir.Combine("db");
        const int n = 60_000;
        using (var writer = LmdbDatabase.Create(path))
        {
            for (int i = 0; i < n; i++)
            {
                writer.Put(MnistConverter.Key(i), Value(i));
            }
        }

        using var read = LmdbDatabase.OpenRead(path);
        Assert.Equal(n, read.Count);
        using var cursor = read.OpenCursor();
        for (int i = 0; i < n; i++)
        {
            Assert.True(cursor.IsValid, $"cursor ended early at {i}");
            Assert.Equal(MnistConverter.Key(i), cursor.KeyString);
            if (!cursor.Value.SequenceEqual(Value(i)))
            {
                Assert.Fail($"value of record {i} differs");
            }
            cursor.MoveNext();
        }
        Assert.False(cursor.IsValid);
    }

    private static byte[] Value(int i)
    {
        var v = new byte[i % 997 == 0 ? 9000 + i % 13 : 1 + i % 3];
        for (int j = 0; j < v.Length; j++)
        {
            v[j] = (byte)(i * 31 + j);
        }
        return v;
    }

    [Fact]
    public void Put_OutOfOrder_Throws()
    {
        using var dir = new TempDir();
        using var writer = LmdbDatabase.Create(dir.Combine("db"));
        writer.Put("00000002", [1]);
        var e = Assert.Throws<CremaException>(() => writer.Put("00000001", [2]));
        Assert.Contains("ascending", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_OpensWithNoRecords()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        LmdbDatabase.Create(path).Dispose();
        using var read = LmdbDatabase.OpenRead(path);
        Assert.Equal(0, read.Count);
        using var cursor = read.OpenCursor();
        Assert.False(cursor.IsValid);
        var e = Assert.Throws<CremaException>(() => cursor.Advance());
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenRead_Missing_NamesPath()
    {
        string path = Path.Combine(Path.GetTempPath(), "crema-no-such-db-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<CremaException>(() => LmdbDatabase.OpenRead(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenRead_GarbageFile_NamesPath()
    {
        using var dir = new TempDir();
        string path = dir.Combine("garbage");
        Directory.CreateDirectory(path);
        File.WriteAllBytes(Path.Combine(path, "data.mdb"), Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray());

        var e = Assert.Throws<CremaException>(() => LmdbDatabase.OpenRead(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenRead_DirectoryWithoutDataFile_NamesPath()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<CremaException>(() => LmdbDatabase.OpenRead(dir.Path));
        Assert.Contains(dir.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains("data.mdb", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_Existing_Refuses()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        using (var writer = LmdbDatabase.Create(path))
        {
            writer.Put("a", [1]);
        }
        var e = Assert.Throws<CremaException>(() => LmdbDatabase.Create(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}

public class LmdbFixtureTests
{
    public static string FixturePath => Path.Combine(AppContext.BaseDirectory, "TestData", "lmdb", "cifar_like_lmdb09");

    [Fact]
    public void OpenRead_DatabaseWrittenByLmdb09_ReadsDatumsInKeyOrder()
    {
        using var db = LmdbDatabase.OpenRead(FixturePath);
        Assert.Equal(24, db.Count);
        using var cursor = db.OpenCursor();
        for (int i = 0; i < 24; i++)
        {
            Assert.Equal(MnistConverter.Key(i), cursor.KeyString);
            var datum = Datum.Parser.ParseFrom(cursor.Value);
            Assert.Equal((3, 32, 32, i % 10), (datum.Channels, datum.Height, datum.Width, datum.Label));
            var bytes = datum.Data.Span;
            Assert.Equal(3072, bytes.Length);
            for (int j = 0; j < bytes.Length; j++)
            {
                if (bytes[j] != (byte)(i * 7 + j))
                {
                    Assert.Fail($"record {i} byte {j}: {bytes[j]}");
                }
            }
            Assert.Equal(i == 23, cursor.Advance());
        }
        Assert.Equal("00000000", cursor.KeyString);
    }
}

public class LmdbCorruptionTests
{
    [Fact]
    public void Iterate_DamagedPage_ThrowsCremaExceptionNamingPath()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        using (var writer = LmdbDatabase.Create(path))
        {
            for (int i = 0; i < 2000; i++)
            {
                writer.Put(MnistConverter.Key(i), new byte[20]);
            }
        }
        // Scribble over the first leaf page (page 2), keeping the file size.
        using (var f = new FileStream(Path.Combine(path, "data.mdb"), FileMode.Open, FileAccess.Write))
        {
            f.Position = 2 * 4096;
            f.Write(Enumerable.Range(0, 4096).Select(i => (byte)(i * 13 + 5)).ToArray());
        }

        var e = Assert.Throws<CremaException>(() =>
        {
            using var db = LmdbDatabase.OpenRead(path);
            using var cursor = db.OpenCursor();
            while (cursor.IsValid)
            {
                _ = cursor.Value.Length;
                cursor.MoveNext();
            }
        });
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
