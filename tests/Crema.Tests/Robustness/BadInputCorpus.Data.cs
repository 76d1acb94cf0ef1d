using System.Buffers.Binary;
using System.Globalization;
using Crema.Data;
using Crema.Nets;
using Crema.Proto;
using Crema.Tests.Data;
using Google.Protobuf;
using PureHDF;

namespace Crema.Tests.Robustness;

/// <summary>The bad-input corpus: images, mean files, IDX, LMDB and HDF5 cases.</summary>
internal static partial class BadInputCorpus
{
    // ------------------------------------------------------------------ images, list files and the mean file (binaryproto)

    private static string ImageNet(string list, string extra = "", string transform = "") => $$"""
        layer { name: "img" type: "ImageData" top: "data" top: "label" transform_param { {{transform}} } image_data_param { source: "{{list}}" batch_size: 1 {{extra}} } }
        """;

    private static BadCase ImageCase(string name, Func<TempDir, byte[]> image, string fileName, string[] expect, string extra = "") => new(name, d =>
    {
        File.WriteAllBytes(d.Combine(fileName), image(d));
        File.WriteAllText(d.Combine("list.txt"), $"{fileName} 0\n");
        return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\" {extra}"));
    }, expect);

    private static BadCase MeanCase(string name, Func<byte[]> mean, params string[] expect) => new(name, d =>
    {
        File.WriteAllBytes(d.Combine("a.png"), BadFiles.Png(6, 5));
        File.WriteAllText(d.Combine("list.txt"), "a.png 0\n");
        File.WriteAllBytes(d.Combine("mean.binaryproto"), mean());
        return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\"", $"mean_file: \"{d.Combine("mean.binaryproto")}\""));
    }, ["mean.binaryproto", .. expect]);

    private static byte[] Mean(int c, int h, int w, int values) =>
        new BlobProto { Num = 1, Channels = c, Height = h, Width = w, Data = { new float[values] } }.ToByteArray();

    private static IEnumerable<BadCase> ImageCases()
    {
        yield return ImageCase("image_header_100000", _ => BadFiles.PngHeader(100_000, 100_000), "huge.png", ["huge.png", "100000x100000"]);
        yield return ImageCase("image_header_0x0", _ => BadFiles.PngHeader(0, 0), "zero.png", ["zero.png"]);
        yield return ImageCase("image_header_1x1_no_data", _ => BadFiles.PngHeader(1, 70000), "thin.png", ["thin.png"]);
        yield return ImageCase("image_random_jpg", _ => BadFiles.Random(2000, 5), "r.jpg", ["r.jpg"]);
        yield return ImageCase("image_empty", _ => [], "e.png", ["e.png"]);
        yield return ImageCase("image_text", _ => System.Text.Encoding.ASCII.GetBytes("not an image"), "t.png", ["t.png"]);
        yield return ImageCase("image_truncated_png", _ => BadFiles.Png(40, 30)[..20], "cut.png", ["cut.png"]);
        yield return ImageCase("image_truncated_jpg", _ => BadFiles.Jpg(16, 16)[..12], "cut.jpg", ["cut.jpg"]);
        yield return ImageCase("image_resize_huge", _ => BadFiles.Png(), "a.png", ["a.png", "60000x60000"], "new_height: 60000 new_width: 60000");
        yield return new("image_missing_file", d =>
        {
            File.WriteAllText(d.Combine("list.txt"), "missing.png 0\n");
            return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\""));
        }, ["missing.png"]);
        yield return new("image_list_bad_label", d =>
        {
            File.WriteAllBytes(d.Combine("a.png"), BadFiles.Png());
            File.WriteAllText(d.Combine("list.txt"), "a.png zero\n");
            return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\""));
        }, ["list.txt:1"]);
        yield return new("image_list_no_label", d =>
        {
            File.WriteAllText(d.Combine("list.txt"), "a.png\n");
            return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\""));
        }, ["list.txt:1"]);
        yield return new("image_list_empty", d =>
        {
            File.WriteAllText(d.Combine("list.txt"), "");
            return Time(d, ImageNet(d.Combine("list.txt")));
        }, ["list.txt"]);
        yield return new("image_list_is_binary", d =>
        {
            File.WriteAllBytes(d.Combine("list.txt"), BadFiles.Random(100, 8));
            return Time(d, ImageNet(d.Combine("list.txt")));
        }, ["list.txt"]);
        yield return new("image_crop_too_big", d =>
        {
            File.WriteAllBytes(d.Combine("a.png"), BadFiles.Png(6, 5));
            File.WriteAllText(d.Combine("list.txt"), "a.png 0\n");
            return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\"", "crop_size: 9"));
        }, ["img"]);

        yield return MeanCase("mean_random", () => BadFiles.Random(500, 11));
        yield return MeanCase("mean_truncated", () => Mean(3, 5, 6, 90)[..40]);
        yield return MeanCase("mean_count_short", () => Mean(3, 5, 6, 80));
        yield return MeanCase("mean_no_data", () => Mean(3, 5, 6, 0));
        yield return MeanCase("mean_wrong_channels", () => Mean(1, 5, 6, 30));
        yield return MeanCase("mean_wrong_size", () => Mean(3, 7, 7, 147));
        yield return MeanCase("mean_dim_huge", () => new BlobProto { Shape = new BlobShape { Dim = { 1, 3, 1L << 33, 1 } } }.ToByteArray());
        yield return MeanCase("mean_empty", () => []);
        yield return new("mean_and_values", d =>
        {
            File.WriteAllBytes(d.Combine("a.png"), BadFiles.Png(6, 5));
            File.WriteAllText(d.Combine("list.txt"), "a.png 0\n");
            File.WriteAllBytes(d.Combine("mean.binaryproto"), Mean(3, 5, 6, 90));
            return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\"", $"mean_file: \"{d.Combine("mean.binaryproto")}\" mean_value: 1"));
        }, ["mean.binaryproto", "img"]);
        yield return new("mean_missing", d =>
        {
            File.WriteAllBytes(d.Combine("a.png"), BadFiles.Png(6, 5));
            File.WriteAllText(d.Combine("list.txt"), "a.png 0\n");
            return Time(d, ImageNet(d.Combine("list.txt"), $"root_folder: \"{d.Path}/\"", $"mean_file: \"{d.Combine("gone.binaryproto")}\""));
        }, ["gone.binaryproto"]);

        // convert_imageset: nothing may be left at the output path.
        BadCase Convert(string name, Action<TempDir> setup, string[] flags, params string[] expect) => new(name, d =>
        {
            setup(d);
            return ["convert_imageset", .. flags, d.Path + "/", d.Combine("list.txt"), d.Combine("out_db")];
        }, expect);
        void TwoImages(TempDir d)
        {
            File.WriteAllBytes(d.Combine("a.png"), BadFiles.Png(6, 5));
            File.WriteAllBytes(d.Combine("b.png"), BadFiles.Png(7, 5));
            File.WriteAllText(d.Combine("list.txt"), "a.png 0\nb.png 1\n");
        }
        yield return Convert("convert_imageset_resize_huge", TwoImages, ["-resize_height", "60000", "-resize_width", "60000"], "60000");
        yield return Convert("convert_imageset_resize_negative", TwoImages, ["-resize_height", "-5", "-resize_width", "5"], "resize_height");
        yield return Convert("convert_imageset_check_size", TwoImages, ["-check_size"], "b.png");
        yield return Convert("convert_imageset_bad_encode_type", TwoImages, ["-encode_type", "gif"], "gif");
        yield return Convert("convert_imageset_list_missing", _ => { }, [], "list.txt");
        yield return Convert("convert_imageset_list_bad_line", d => File.WriteAllText(d.Combine("list.txt"), "a.png x y\n"), [], "list.txt");
        yield return new("convert_imageset_output_exists", d =>
        {
            TwoImages(d);
            BadFiles.Lmdb(d.Combine("out_db"), 2);
            return ["convert_imageset", d.Path + "/", d.Combine("list.txt"), d.Combine("out_db")];
        }, ["out_db"]);
    }

    // ------------------------------------------------------------------ IDX (convert_mnist_data)

    private static BadCase Mnist(string name, Func<byte[]> images, Func<byte[]> labels, params string[] expect) => new(name, d =>
    {
        File.WriteAllBytes(d.Combine("images-idx3-ubyte"), images());
        File.WriteAllBytes(d.Combine("labels-idx1-ubyte"), labels());
        return ["convert_mnist_data", d.Combine("images-idx3-ubyte"), d.Combine("labels-idx1-ubyte"), d.Combine("out_db")];
    }, expect);

    private static IEnumerable<BadCase> IdxCases()
    {
        byte[] Images() => BadFiles.IdxImages(10, 4, 4);
        byte[] Labels() => BadFiles.IdxLabels(10);
        byte[] With(byte[] bytes, int offset, int value)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(offset), value);
            return bytes;
        }
        yield return Mnist("idx_bad_magic", () => With(Images(), 0, 1234), Labels, "images-idx3-ubyte", "1234");
        yield return Mnist("idx_labels_bad_magic", Images, () => With(Labels(), 0, 99), "labels-idx1-ubyte");
        yield return Mnist("idx_swapped", Labels, Images, "idx");
        yield return Mnist("idx_count_mismatch", Images, () => BadFiles.IdxLabels(9), "images-idx3-ubyte", "labels-idx1-ubyte");
        yield return Mnist("idx_count_negative", () => With(Images(), 4, -1), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_count_huge", () => With(Images(), 4, int.MaxValue), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_rows_zero", () => With(Images(), 8, 0), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_rows_negative", () => With(Images(), 8, -4), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_rows_huge", () => With(Images(), 8, 1 << 30), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_rows_cols_overflow", () => With(With(Images(), 8, 65536), 12, 65536), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_truncated_header", () => Images()[..6], Labels, "images-idx3-ubyte");
        yield return Mnist("idx_truncated_data", () => Images()[..100], Labels, "images-idx3-ubyte");
        yield return Mnist("idx_labels_truncated", Images, () => Labels()[..12], "labels-idx1-ubyte");
        yield return Mnist("idx_empty", () => [], Labels, "images-idx3-ubyte");
        yield return Mnist("idx_gzip_truncated", () => BadFiles.Gzip(Images())[..30], Labels, "images-idx3-ubyte");
        yield return Mnist("idx_gzip_bad_crc", () =>
        {
            var gz = BadFiles.Gzip(Images());
            gz[^8] ^= 0x5A;
            return gz;
        }, Labels, "images-idx3-ubyte", "gzip");
        yield return Mnist("idx_gzip_bad_deflate", () =>
        {
            var gz = BadFiles.Gzip(Images());
            for (int i = 12; i < 20 && i < gz.Length - 8; i++)
            {
                gz[i] = 0xFF;
            }
            return gz;
        }, Labels, "images-idx3-ubyte");
        yield return Mnist("idx_gzip_lying_count", () => BadFiles.IdxImages(3, 64, 64, gzip: true, declaredCount: 500_000), Labels, "images-idx3-ubyte");
        yield return Mnist("idx_gzip_only_magic", () => [0x1f, 0x8b], Labels, "images-idx3-ubyte");
        yield return new("idx_images_missing", d =>
        {
            File.WriteAllBytes(d.Combine("labels-idx1-ubyte"), Labels());
            return ["convert_mnist_data", d.Combine("nope-idx3"), d.Combine("labels-idx1-ubyte"), d.Combine("out_db")];
        }, ["nope-idx3"]);
        yield return new("idx_images_is_directory", d =>
        {
            Directory.CreateDirectory(d.Combine("dir-idx3"));
            File.WriteAllBytes(d.Combine("labels-idx1-ubyte"), Labels());
            return ["convert_mnist_data", d.Combine("dir-idx3"), d.Combine("labels-idx1-ubyte"), d.Combine("out_db")];
        }, ["dir-idx3"]);
        yield return new("idx_output_exists", d =>
        {
            File.WriteAllBytes(d.Combine("images-idx3-ubyte"), Images());
            File.WriteAllBytes(d.Combine("labels-idx1-ubyte"), Labels());
            BadFiles.Lmdb(d.Combine("out_db"), 1);
            return ["convert_mnist_data", d.Combine("images-idx3-ubyte"), d.Combine("labels-idx1-ubyte"), d.Combine("out_db")];
        }, ["out_db"]);
        yield return Mnist("idx_unsupported_backend", Images, Labels, "out_db") with
        {
            Name = "idx_backend_bad",
            Setup = d =>
            {
                File.WriteAllBytes(d.Combine("images-idx3-ubyte"), Images());
                File.WriteAllBytes(d.Combine("labels-idx1-ubyte"), Labels());
                return ["convert_mnist_data", d.Combine("images-idx3-ubyte"), d.Combine("labels-idx1-ubyte"), d.Combine("out_db"), "-backend", "rocksdb"];
            },
            Expect = ["rocksdb"],
        };
    }

    // ------------------------------------------------------------------ LMDB (compute_image_mean, Data layer)

    private static BadCase Db(string name, Action<string> damage, params string[] expect) => new(name, d =>
    {
        BadFiles.Lmdb(d.Combine("db"), n: 300, bigEvery: 37);
        damage(d.Combine("db"));
        return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
    }, ["db", .. expect]);

    private static void Patch(string db, long offset, ReadOnlySpan<byte> bytes)
    {
        using var f = new FileStream(Path.Combine(db, "data.mdb"), FileMode.Open);
        f.Position = offset;
        f.Write(bytes);
    }

    private static void Patch32(string db, long offset, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        Patch(db, offset, b);
    }

    private static void Patch64(string db, long offset, long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        Patch(db, offset, b);
    }

    private static void Cut(string db, long length)
    {
        using var f = new FileStream(Path.Combine(db, "data.mdb"), FileMode.Open);
        f.SetLength(Math.Min(length, f.Length - 1));
    }

    private static BadCase DatumDb(string name, Func<int, Datum> datum, string verb = "mean", params string[] expect) => new(name, d =>
    {
        using (var writer = LmdbDatabase.Create(d.Combine("db")))
        {
            for (int i = 0; i < 3; i++)
            {
                writer.Put(MnistConverter.Key(i), datum(i).ToByteArray());
            }
        }
        if (verb == "mean")
        {
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }
        return Time(d, $$"""layer { name: "d" type: "Data" top: "data" top: "label" data_param { source: "{{d.Combine("db")}}" batch_size: 2 backend: LMDB } }""");
    }, verb == "mean" ? ["db", .. expect] : expect);

    private static IEnumerable<BadCase> LmdbCases()
    {
        const long meta1 = 4096 + LmdbFormat.PageHeaderSize;
        foreach (long length in (long[])[0, 100, 1024, 4096, 4096 + 600, 8192, 3 * 4096 + 5, 20 * 4096, 60 * 4096 + 77])
        {
            yield return Db($"lmdb_truncated_{length}", db => Cut(db, length));
        }
        foreach (int seed in Enumerable.Range(1, 12))
        {
            yield return Db($"lmdb_scribble_{seed}", db =>
            {
                var rng = new Random(seed);
                long size = new FileInfo(Path.Combine(db, "data.mdb")).Length;
                long page = 2 + rng.Next((int)(size / 4096) - 2);
                Patch(db, page * 4096 + rng.Next(16, 64), BadFiles.Random(64 + rng.Next(200), seed));
            });
        }
        foreach (int seed in Enumerable.Range(1, 6))
        {
            yield return Db($"lmdb_page_header_{seed}", db =>
            {
                var rng = new Random(seed * 31);
                long size = new FileInfo(Path.Combine(db, "data.mdb")).Length;
                long page = 2 + rng.Next((int)(size / 4096) - 2);
                Patch(db, page * 4096 + 8, BadFiles.Random(8, seed)); // flags, lower, upper
            });
        }
        yield return Db("lmdb_bad_magic", db => { Patch32(db, LmdbFormat.PageHeaderSize, 0x12345678); Patch32(db, meta1, 0x12345678); }, "magic");
        yield return Db("lmdb_bad_version", db => { Patch32(db, LmdbFormat.PageHeaderSize + 4, 7); Patch32(db, meta1 + 4, 7); }, "version");
        yield return Db("lmdb_page_size_odd", db => Patch32(db, LmdbFormat.PageHeaderSize + LmdbFormat.MetaFreeDb, 1000), "page size");
        yield return Db("lmdb_page_size_huge", db => Patch32(db, LmdbFormat.PageHeaderSize + LmdbFormat.MetaFreeDb, 1 << 20), "page size");
        yield return Db("lmdb_page_size_64k", db => Patch32(db, LmdbFormat.PageHeaderSize + LmdbFormat.MetaFreeDb, 1 << 16));
        yield return Db("lmdb_root_beyond_end", db => Patch64(db, meta1 + LmdbFormat.MetaMainDb + LmdbFormat.DbRoot, 1_000_000), "1000000");
        yield return Db("lmdb_root_negative", db => Patch64(db, meta1 + LmdbFormat.MetaMainDb + LmdbFormat.DbRoot, -5));
        yield return Db("lmdb_root_is_meta", db => Patch64(db, meta1 + LmdbFormat.MetaMainDb + LmdbFormat.DbRoot, 1));
        yield return Db("lmdb_meta_flags", db => { Patch(db, 10, [0, 0]); Patch(db, 4096 + 10, [0, 0]); }, "meta");
        yield return Db("lmdb_dupsort_flag", db => Patch(db, meta1 + LmdbFormat.MetaMainDb + LmdbFormat.DbFlags, [0x04, 0]));
        yield return new("lmdb_negative_record_size", d =>
        {
            BadFiles.Lmdb(d.Combine("db"), n: 3);
            using (var f = new FileStream(Path.Combine(d.Combine("db"), "data.mdb"), FileMode.Open))
            {
                var page = new byte[4096];
                f.Position = 2 * 4096;
                f.ReadExactly(page);
                int node = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(16));
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(node + 2), 0xFFFF);
                f.Position = 2 * 4096;
                f.Write(page);
            }
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }, ["db", "00000000", "negative"]);
        yield return new("lmdb_empty_database", d =>
        {
            using (LmdbDatabase.Create(d.Combine("db")))
            {
            }
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }, ["db"]);
        yield return new("lmdb_source_is_file", d =>
        {
            File.WriteAllText(d.Combine("db"), "x");
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }, ["db"]);
        yield return new("lmdb_no_data_mdb", d =>
        {
            Directory.CreateDirectory(d.Combine("db"));
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }, ["db"]);
        yield return new("lmdb_missing", d => ["compute_image_mean", d.Combine("nodb"), d.Combine("mean.binaryproto")], ["nodb"]);
        yield return new("lmdb_data_mdb_random", d =>
        {
            Directory.CreateDirectory(d.Combine("db"));
            File.WriteAllBytes(Path.Combine(d.Combine("db"), "data.mdb"), BadFiles.Random(3 * 4096, 21));
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }, ["db"]);
        yield return new("lmdb_mean_output_missing_folder", d =>
        {
            BadFiles.Lmdb(d.Combine("db"), 3);
            return ["compute_image_mean", d.Combine("db"), d.Combine("no/such/mean.binaryproto")];
        }, ["no/such"]);

        Datum Raw(int i) => new() { Channels = 1, Height = 2, Width = 2, Label = i, Data = ByteString.CopyFrom(new byte[4]) };
        yield return DatumDb("datum_not_a_datum", _ => new Datum(), "mean", "00000000");
        yield return new("datum_random_bytes", d =>
        {
            using (var writer = LmdbDatabase.Create(d.Combine("db")))
            {
                writer.Put(MnistConverter.Key(0), BadFiles.Random(50, 12));
            }
            return ["compute_image_mean", d.Combine("db"), d.Combine("mean.binaryproto")];
        }, ["db", "00000000"]);
        yield return DatumDb("datum_huge_dims", i => new Datum { Channels = 3, Height = 65536, Width = 65536, Data = ByteString.CopyFrom(new byte[4]) });
        yield return DatumDb("datum_negative_dims", i => new Datum { Channels = 1, Height = -2, Width = 2, Data = ByteString.CopyFrom(new byte[4]) });
        yield return DatumDb("datum_zero_dims", i => new Datum { Channels = 0, Height = 2, Width = 2 });
        yield return DatumDb("datum_data_short", i => new Datum { Channels = 1, Height = 3, Width = 3, Data = ByteString.CopyFrom(new byte[4]) });
        yield return DatumDb("datum_float_short", i => new Datum { Channels = 1, Height = 3, Width = 3, FloatData = { 1f, 2f } });
        yield return DatumDb("datum_sizes_differ", i => new Datum { Channels = 1, Height = 2 + i, Width = 2, Data = ByteString.CopyFrom(new byte[2 * (2 + i)]) });
        yield return DatumDb("datum_encoded_garbage", i => new Datum { Encoded = true, Data = ByteString.CopyFrom(BadFiles.Random(40, i)) });
        yield return DatumDb("datum_encoded_huge_png", i => new Datum { Encoded = true, Data = ByteString.CopyFrom(BadFiles.PngHeader(100_000, 100_000)) });
        yield return DatumDb("data_layer_not_a_datum", _ => new Datum { Channels = 1 }, "time", "'d'");
        yield return DatumDb("data_layer_huge_dims", _ => new Datum { Channels = 3, Height = 65536, Width = 65536, Data = ByteString.CopyFrom(new byte[4]) }, "time", "'d'");
        yield return new("data_layer_batch_shapes_differ", d =>
        {
            using (var writer = LmdbDatabase.Create(d.Combine("db")))
            {
                writer.Put(MnistConverter.Key(0), Raw(0).ToByteArray());
                writer.Put(MnistConverter.Key(1), new Datum { Channels = 1, Height = 3, Width = 3, Data = ByteString.CopyFrom(new byte[9]) }.ToByteArray());
            }
            return Time(d, $$"""layer { name: "d" type: "Data" top: "data" top: "label" data_param { source: "{{d.Combine("db")}}" batch_size: 2 backend: LMDB } }""");
        }, ["d"]);
        yield return DatumDb("data_layer_encoded_garbage", i => new Datum { Encoded = true, Data = ByteString.CopyFrom(BadFiles.Random(40, i)) }, "time", "d");
        yield return new("data_layer_truncated_db", d =>
        {
            BadFiles.Lmdb(d.Combine("db"), n: 300, bigEvery: 37);
            Cut(d.Combine("db"), 4096);
            return Time(d, $$"""layer { name: "d" type: "Data" top: "data" top: "label" data_param { source: "{{d.Combine("db")}}" batch_size: 2 backend: LMDB } }""");
        }, ["db"]);
    }

    // ------------------------------------------------------------------ HDF5Data

    private static BadCase H5(string name, Action<TempDir> write, params string[] expect) => new(name, d =>
    {
        write(d);
        File.WriteAllText(d.Combine("h5list.txt"), d.Combine("x.h5") + "\n");
        return Time(d, $$"""layer { name: "h5" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "{{d.Combine("h5list.txt")}}" batch_size: 2 } }""");
    }, expect);

    private static IEnumerable<BadCase> Hdf5Cases()
    {
        H5Dataset Floats(params int[] shape) => new(new float[shape.Aggregate(1, (a, b) => a * b)], fileDims: shape.Select(s => (ulong)s).ToArray());
        yield return H5("hdf5_random", d => File.WriteAllBytes(d.Combine("x.h5"), BadFiles.Random(4000, 31)), "x.h5");
        yield return H5("hdf5_empty", d => File.WriteAllBytes(d.Combine("x.h5"), []), "x.h5");
        yield return H5("hdf5_missing_file", _ => { }, "x.h5");
        yield return H5("hdf5_no_label", d => new H5File { ["data"] = Floats(4, 3) }.Write(d.Combine("x.h5")), "label");
        yield return H5("hdf5_no_data", d => new H5File { ["label"] = Floats(4) }.Write(d.Combine("x.h5")), "data");
        yield return H5("hdf5_rows_differ", d => new H5File { ["data"] = Floats(4, 3), ["label"] = Floats(3) }.Write(d.Combine("x.h5")), "x.h5");
        yield return H5("hdf5_scalar_data", d => new H5File { ["data"] = new H5Dataset(1.5f), ["label"] = Floats(4) }.Write(d.Combine("x.h5")), "x.h5");
        yield return H5("hdf5_truncated", d =>
        {
            new H5File { ["data"] = Floats(40, 30), ["label"] = Floats(40) }.Write(d.Combine("full.h5"));
            var bytes = File.ReadAllBytes(d.Combine("full.h5"));
            File.WriteAllBytes(d.Combine("x.h5"), bytes[..(bytes.Length * 2 / 3)]);
            File.Delete(d.Combine("full.h5"));
        }, "x.h5");
        yield return H5("hdf5_soft_link_self", d => new H5File { ["data"] = Floats(4, 3), ["label"] = new H5SoftLink("label") }.Write(d.Combine("x.h5")), "x.h5", "'/label' is part of a cycle");
        yield return H5("hdf5_soft_link_two_cycle", d => new H5File { ["data"] = new H5SoftLink("label"), ["label"] = new H5SoftLink("/data") }.Write(d.Combine("x.h5")), "x.h5", "cycle");
        yield return H5("hdf5_soft_link_chain_10000", d => Hdf5LinkGuardTests.WriteChain(d.Combine("x.h5"), 10_000), "x.h5", "chain of more than 16 soft links");
        yield return H5("hdf5_soft_link_old_style_self", d => File.WriteAllBytes(d.Combine("x.h5"), Hdf5LinkGuardTests.OldStyleWithSoftLinks(("label", "label"))), "x.h5", "cycle");
        yield return H5("hdf5_soft_link_old_style_two_cycle", d => File.WriteAllBytes(d.Combine("x.h5"), Hdf5LinkGuardTests.OldStyleWithSoftLinks(("label", "data"), ("data", "label"))), "x.h5", "cycle");
        yield return H5("hdf5_dims_far_beyond_file", d =>
        {
            // fuzzer finding: Caffe's gzip sample with data's third dim 6 → 262150 (419 MB declared in a 15 KB file);
            // PureHDF took minutes filling the missing chunks
            byte[] bytes = File.ReadAllBytes(RepoPaths.Get("tests", "Crema.Tests", "TestData", "hdf5", "sample_data_2_gzip.h5"));
            byte[] dims = [.. new ulong[] { 10, 8, 6, 5 }.SelectMany(BitConverter.GetBytes)];
            int at = bytes.AsSpan().IndexOf(dims);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at + 16), 262150);
            File.WriteAllBytes(d.Combine("x.h5"), bytes);
        }, "x.h5", "'data'", "more than a 15446-byte file can hold");
        yield return H5("hdf5_chunk_btree_cycle", d => File.WriteAllBytes(d.Combine("x.h5"), Hdf5LinkGuardTests.ChunkBTreeCycle()), "x.h5", "B-tree");
        yield return new("hdf5_list_empty", d =>
        {
            File.WriteAllText(d.Combine("h5list.txt"), "\n");
            return Time(d, $$"""layer { name: "h5" type: "HDF5Data" top: "data" hdf5_data_param { source: "{{d.Combine("h5list.txt")}}" batch_size: 2 } }""");
        }, ["h5list.txt"]);
        yield return new("hdf5_batch_zero", d =>
        {
            new H5File { ["data"] = Floats(4, 3) }.Write(d.Combine("x.h5"));
            File.WriteAllText(d.Combine("h5list.txt"), d.Combine("x.h5"));
            return Time(d, $$"""layer { name: "h5" type: "HDF5Data" top: "data" hdf5_data_param { source: "{{d.Combine("h5list.txt")}}" batch_size: 0 } }""");
        }, ["h5"]);
    }
}
