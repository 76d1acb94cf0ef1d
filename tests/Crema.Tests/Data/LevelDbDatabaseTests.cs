using System.Security.Cryptography;
using Crema.Data;
using Crema.Proto;

namespace Crema.Tests.Data;

public class LevelDbDatabaseTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "leveldb", name);

    private static List<(string Key, int Label, string Sha)> Expected(string name) =>
        File.ReadAllLines(Fixture(name + ".expected.tsv"))
            .Select(l => l.Split('\t'))
            .Select(f => (f[0], int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[2]))
            .ToList();

    private static string Sha(ReadOnlySpan<byte> value) => Convert.ToHexStringLower(SHA256.HashData(value));

    [Theory]
    [InlineData("mnist20_sst")]
    [InlineData("mnist20_log")]
    [InlineData("mnist20_mixed")]
    public void Fixture_WrittenByLibLevelDb_ReadsAsPlyvelSawIt(string name)
    {
        var expected = Expected(name);
        using var db = LevelDbDatabase.OpenRead(Fixture(name));
        using var cursor = db.OpenCursor();
        var seen = new List<(string, int, string)>();
        while (cursor.IsValid)
        {
            var datum = Datum.Parser.ParseFrom(cursor.Value);
            Assert.Equal((1, 28, 28, 784), (datum.Channels, datum.Height, datum.Width, datum.Data.Length));
            seen.Add((cursor.KeyString, datum.Label, Sha(cursor.Value)));
            cursor.MoveNext();
        }
        Assert.Equal(expected, seen);
    }

    [Fact]
    public void Fixtures_CoverTablesLogsAndSnappy()
    {
        // The fixtures are only worth their name if they hold what the generator meant: check the files themselves.
        Assert.Empty(Directory.GetFiles(Fixture("mnist20_log"), "*.ldb"));
        Assert.True(new FileInfo(Directory.GetFiles(Fixture("mnist20_log"), "*.log").Single()).Length > 15_000);
        Assert.Equal(2, Directory.GetFiles(Fixture("mnist20_mixed"), "*.ldb").Length);
        Assert.True(new FileInfo(Directory.GetFiles(Fixture("mnist20_mixed"), "*.log").Single()).Length > 0);

        string table = Directory.GetFiles(Fixture("mnist20_sst"), "*.ldb").Single();
        using var t = LevelDbTable.Open(table, d => new CremaException(d));
        byte[] bytes = File.ReadAllBytes(table);
        var types = t.DataBlocks.Select(b => bytes[b.Offset + b.Size]).ToList();
        Assert.Contains(LevelDbFormat.SnappyCompression, types);
        // The memtable went to the table whole: 20 puts, the shadowed first version of key 5 and the deletion of key 7.
        // The reader must resolve both inside one table; 20 × 784 pixels cannot fit the file uncompressed.
        int entries = t.DataBlocks.Sum(b => t.ReadEntries(t.ReadBlock(b.Offset, b.Size)).Count);
        Assert.Equal(22, entries);
        Assert.True(new FileInfo(table).Length < 20 * 784);
    }

    [Fact]
    public void Cursor_AdvanceWrapsAroundLikeCaffesDataLayer()
    {
        var expected = Expected("mnist20_mixed").Select(e => e.Key).ToList();
        using var db = LevelDbDatabase.OpenRead(Fixture("mnist20_mixed"));
        using var cursor = db.OpenCursor();
        var keys = new List<string>();
        var wrapped = new List<bool>();
        for (int i = 0; i < expected.Count + 3; i++)
        {
            keys.Add(cursor.KeyString);
            wrapped.Add(cursor.Advance());
        }
        Assert.Equal([.. expected, .. expected.Take(3)], keys);
        Assert.Equal(Enumerable.Range(0, expected.Count + 3).Select(i => i == expected.Count - 1), wrapped);
    }

    [Fact]
    public void Writer_ManyRecords_SplitIntoTables_ReadBack()
    {
        // 3,000 × ~1 KB of poorly compressible values pass the 2 MiB table size: two tables in level 1.
        using var dir = new TempDir();
        string path = dir.Combine("db");
        const int n = 3000;
        Assert.Equal(n, WriteRecords(path, n));
        Assert.True(Directory.GetFiles(path, "*.ldb").Length >= 2);
        using var db = LevelDbDatabase.OpenRead(path);
        using var cursor = db.OpenCursor();
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

    /// <summary>Writes records 0..n-1 (Caffe's keys, <see cref="Value"/>) and returns the writer's count.</summary>
    private static long WriteRecords(string path, int n)
    {
        using var writer = LevelDbDatabase.Create(path);
        for (int i = 0; i < n; i++)
        {
            writer.Put(MnistConverter.Key(i), Value(i));
        }
        writer.Complete();
        return writer.Count;
    }

    [PlyvelFact]
    public void Writer_Output_IsReadByRealLevelDb()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        const int n = 3000;
        WriteRecords(path, n);
        var lines = Plyvel.Dump(path);
        Assert.Equal(Enumerable.Range(0, n).Select(i => MnistConverter.Key(i) + "\t" + Sha(Value(i))), lines);
    }

    [Fact]
    public void Writer_EmptyDatabase_OpensWithNoRecords()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        LevelDbDatabase.Create(path).Complete();
        using var db = LevelDbDatabase.OpenRead(path);
        using var cursor = db.OpenCursor();
        Assert.False(cursor.IsValid);
        Assert.Contains("is empty", Assert.Throws<CremaException>(() => cursor.Advance()).Message);
    }

    [Fact]
    public void Writer_KeysOutOfOrder_Refused()
    {
        using var dir = new TempDir();
        using var writer = LevelDbDatabase.Create(dir.Combine("db"));
        writer.Put("b", [1]);
        var e = Assert.Throws<CremaException>(() => writer.Put("a", [2]));
        Assert.Contains("ascending order", e.Message);
    }

    [Theory]
    [InlineData("mnist20_sst", "*.ldb", "checksum mismatch")]
    [InlineData("mnist20_log", "*.log", "checksum mismatch")]
    [InlineData("mnist20_mixed", "MANIFEST-*", "checksum mismatch")]
    public void CorruptFile_OneClearErrorNamingDatabaseAndFile(string fixture, string pattern, string detail)
    {
        using var dir = new TempDir();
        string path = dir.Combine(fixture);
        CopyDir(Fixture(fixture), path);
        string victim = Directory.GetFiles(path, pattern).Single();
        byte[] bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 3] ^= 0x40;
        File.WriteAllBytes(victim, bytes);

        var e = Assert.Throws<CremaException>(() =>
        {
            using var db = LevelDbDatabase.OpenRead(path);
            using var cursor = db.OpenCursor();
            while (cursor.MoveNext())
            {
            }
        });
        Assert.Contains($"LevelDB '{path}'", e.Message);
        Assert.Contains(Path.GetFileName(victim), e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void RandomDamage_EitherReadsOrGivesACremaException()
    {
        // 10 single-bit flips in each file of each fixture: never another exception type, never a hang.
        var random = new Random(1701);
        using var dir = new TempDir();
        foreach (string fixture in new[] { "mnist20_sst", "mnist20_log", "mnist20_mixed" })
        {
            foreach (string file in Directory.GetFiles(Fixture(fixture)).Where(f => new FileInfo(f).Length > 0))
            {
                for (int trial = 0; trial < 10; trial++)
                {
                    string path = dir.Combine($"{fixture}-{Path.GetFileName(file)}-{trial}");
                    CopyDir(Fixture(fixture), path);
                    string victim = Path.Combine(path, Path.GetFileName(file));
                    byte[] bytes = File.ReadAllBytes(victim);
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    File.WriteAllBytes(victim, bytes);
                    try
                    {
                        using var db = LevelDbDatabase.OpenRead(path);
                        using var cursor = db.OpenCursor();
                        for (int n = 0; cursor.IsValid && n < 100; n++)
                        {
                            cursor.MoveNext();
                        }
                    }
                    catch (CremaException)
                    {
                    }
                }
            }
        }
    }

    [Fact]
    public void MissingTable_And_MissingCurrent_AreClearErrors()
    {
        using var dir = new TempDir();
        string path = dir.Combine("db");
        CopyDir(Fixture("mnist20_sst"), path);
        string table = Directory.GetFiles(path, "*.ldb").Single();
        File.Delete(table);
        var e = Assert.Throws<CremaException>(() =>
        {
            using var db = LevelDbDatabase.OpenRead(path);
            using var cursor = db.OpenCursor();
        });
        Assert.Contains(Path.GetFileName(table) + " listed in the MANIFEST is missing", e.Message);

        File.Delete(Path.Combine(path, "CURRENT"));
        Assert.Contains("has no CURRENT file", Assert.Throws<CremaException>(() => LevelDbDatabase.OpenRead(path)).Message);
        Assert.Contains("not found", Assert.Throws<CremaException>(() => LevelDbDatabase.OpenRead(dir.Combine("nope"))).Message);
    }

    [Fact]
    public void Crc32C_MatchesKnownValues()
    {
        // RFC 3720 B.4 test vectors, and LevelDB's crc32c_test "123456789".
        Assert.Equal(0x8a9136aau, LevelDbFormat.Crc32C(new byte[32]));
        Assert.Equal(0x62a8ab43u, LevelDbFormat.Crc32C(Enumerable.Repeat((byte)0xff, 32).ToArray()));
        Assert.Equal(0x46dd794eu, LevelDbFormat.Crc32C(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0xe3069283u, LevelDbFormat.Crc32C("123456789"u8));
        uint crc = LevelDbFormat.Crc32C("foo"u8);
        Assert.Equal(crc, LevelDbFormat.Unmask(LevelDbFormat.Mask(crc)));
        Assert.NotEqual(crc, LevelDbFormat.Mask(crc));
    }

    [Fact]
    public void LogRecords_SpanningBlocks_RoundTrip()
    {
        // Records of 0 B, 100 KB (FIRST/MIDDLE/LAST across 32 KiB blocks) and ones that leave < 7 bytes in a block.
        int[] sizes = [0, 100_000, 32_768 - 7 - 3, 5, 40_000, 1];
        using var stream = new MemoryStream();
        int offset = 0;
        foreach (int s in sizes)
        {
            LevelDbFormat.WriteLogRecord(stream, Value(s, s), ref offset);
        }
        var records = LevelDbFormat.ReadLogRecords(stream.ToArray(), d => new CremaException(d));
        Assert.Equal(sizes.Length, records.Count);
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(Value(sizes[i], sizes[i]), records[i]);
        }
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
    }

    private static byte[] Value(int i) => Value(i, 700 + (i % 600));

    // Pseudo-random bytes (an LCG seeded by i), so Snappy cannot shrink them much.
    private static byte[] Value(int i, int length)
    {
        var v = new byte[length];
        uint state = (uint)i * 2654435761u + 1;
        for (int j = 0; j < length; j++)
        {
            state = (state * 1664525u) + 1013904223u;
            v[j] = (byte)(state >> 24);
        }
        return v;
    }
}
