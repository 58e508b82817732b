using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Flamewright.Pprof.Model;
using static Flamewright.Testing.Wire;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// Corrupt, truncated and hostile inputs are refused with a <see cref="PprofFormatException"/> whose one-line
/// message says what is wrong and where, and never cost memory out of proportion to the limits.
/// </summary>
public sealed class HostileInputTests
{
    // A minimal valid profile, assembled by hand so that every byte offset below can be worked out.
    // string_table: 0 "", 1 samples, 2 count, 3 main, 4 main.go
    private static readonly byte[] Header = Concat(
        Strings("", "samples", "count", "main", "main.go"),
        LenField(1, VarintField(1, 1), VarintField(2, 2)),                 // sample_type samples/count
        LenField(3, VarintField(1, 1), VarintField(5, 4)),                 // mapping id 1, file main.go
        LenField(5, VarintField(1, 1), VarintField(2, 3), VarintField(4, 4)), // function id 1 main main.go
        LenField(4, VarintField(1, 1), VarintField(2, 1), LenField(4, VarintField(1, 1), VarintField(2, 10)))); // location 1

    private static readonly byte[] Valid = Concat(Header, LenField(2, Packed(1, 1), Packed(2, 5)));

    // Where the samples start (H) and where bytes appended to Valid start (V): the offsets below count from them.
    private static readonly int H = Header.Length;
    private static readonly int V = Valid.Length;

    // 300 MiB of zeros: 30 gzip members of 10 MiB each (gzip readers must read concatenated members), which is
    // quicker to build than one member and holds the same bomb.
    private static readonly Lazy<byte[]> ZeroBomb = new(() =>
        Concat(Enumerable.Repeat(Gzip(new byte[10 << 20], CompressionLevel.SmallestSize), 30).ToArray()));

    private const string TruncatedGzip = "truncated gzip data (or bytes after it): the input does not end with the gzip trailer";

    /// <summary>Decodes from memory and from a stream; both must refuse with the same single-line message.</summary>
    private static string Refused(byte[] input, PprofLimits? limits = null, bool viaStreamToo = true)
    {
        var e = Assert.Throws<PprofFormatException>(() => ProfileReader.Read(input, limits));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        if (viaStreamToo)
        {
            var s = Assert.Throws<PprofFormatException>(() => ProfileReader.Read(new MemoryStream(input), limits));
            Assert.Equal(e.Message, s.Message);
        }

        return e.Message;
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task The_hand_assembled_base_profile_is_valid() => Spec.Run(() =>
    {
        Profile p = ProfileReader.Read(Valid);
        Assert.Equal("samples/count", p.SampleTypes[0].ToString());
        Assert.Equal(1, p.SampleCount);
        Assert.Equal([5L], p.GetSample(0).Values.ToArray());
        Location location = p.Locations[p.GetSample(0).LocationIndexes[0]];
        Assert.Equal("main.go", p.Mappings[location.MappingIndex].FileName);
        Assert.Equal(new Line(0, 10, 0), p.Lines[location.FirstLine]);
        Assert.Equal("main", p.Functions[0].Name);
    });

    // ---- empty, gzip ----------------------------------------------------------------------------------

    [Fact(Timeout = Spec.Timeout)]
    public Task Empty_input_is_refused() => Spec.Run(() =>
    {
        Assert.Equal("empty input: a profile has at least a string table", Refused([]));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Gzip_of_nothing_is_refused() => Spec.Run(() =>
    {
        Assert.Empty(Gzip([])); // GZipStream writes nothing at all for no data, so assemble the 20 bytes by hand:
        byte[] empty = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Empty(Gunzip(empty));

        Assert.Equal("gzip data inflates to nothing: a profile has at least a string table", Refused(empty));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_real_cpu_profile_cut_in_half_is_refused_although_GZipStream_returns_the_first_part_quietly() => Spec.Run(() =>
    {
        byte[] full = TestData.Bytes("cpu");
        byte[] half = full[..(full.Length / 2)];
        int quietlyInflated = Gunzip(half).Length; // GZipStream does not report the missing end...
        Assert.InRange(quietlyInflated, 1, Gunzip(full).Length - 1);

        // ...so the decoder checks the trailer itself.
        Assert.Equal(TruncatedGzip, Refused(half));
    });

    public static TheoryData<string, int> Cuts()
    {
        var data = new TheoryData<string, int>();
        foreach ((string name, _) in TestData.AllProfiles())
        {
            // Inside the 8-byte trailer (the deflate data is complete), just before it, and early cuts.
            foreach (int fromEnd in new[] { 1, 4, 5, 8, 9, 64 })
            {
                data.Add(name, -fromEnd);
            }

            foreach (int at in new[] { 3, 10, 17, 18, 20, 100 })
            {
                data.Add(name, at);
            }
        }

        return data;
    }

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cuts))]
    public Task Every_profile_gzip_cut_anywhere_is_refused_as_truncated(string profile, int cut) => Spec.Run(() =>
    {
        byte[] full = TestData.Bytes(profile);
        byte[] truncated = full[..(cut < 0 ? full.Length + cut : cut)];

        Assert.Equal(TruncatedGzip, Refused(truncated));
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData("garbage!")]
    [InlineData("\0\0\0\0\0\0\0\0")]
    [InlineData("\u001f\u008b")]
    public Task Bytes_after_the_end_of_the_gzip_stream_are_refused_as_go_tool_pprof_does(string trailing) => Spec.Run(() =>
    {
        byte[] data = Concat(TestData.Bytes("heap"), Encoding.Latin1.GetBytes(trailing));

        // The last 8 bytes are then not the trailer of what was inflated: to the decoder that is a cut stream.
        Assert.Equal(TruncatedGzip, Refused(data));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_stored_gzip_cut_right_after_eight_zero_bytes_is_refused_not_read_as_a_shorter_profile() => Spec.Run(() =>
    {
        // Samples that end in an unknown field of 8 zero bytes, gzipped without compression (stored blocks keep
        // the bytes as they are). 8 zero bytes are also what the trailer of an empty gzip member looks like.
        byte[] sample = LenField(2, Packed(1, 1), Packed(2, 5), LenField(99, new byte[8]));
        byte[] gzip = Gzip(Concat(Header, sample, sample, sample), CompressionLevel.NoCompression);
        int end = gzip.AsSpan().IndexOf(sample) + sample.Length;
        Assert.Equal(3, ProfileReader.Read(gzip).SampleCount);
        Assert.Equal(Concat(Header, sample), Gunzip(gzip[..end])); // cut after the first sample: a valid 1-sample profile

        Assert.Equal(TruncatedGzip, Refused(gzip[..end]));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_gzip_stream_with_a_damaged_checksum_is_refused_as_corrupt() => Spec.Run(() =>
    {
        byte[] data = TestData.Bytes("heap");
        data[^8] ^= 0x01; // CRC-32 of the trailer

        string message = Refused(data);

        Assert.Equal("corrupt gzip data after 0 decompressed bytes: invalid deflate data or checksum", message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_gzip_stream_with_damaged_deflate_data_is_refused_as_corrupt() => Spec.Run(() =>
    {
        byte[] data = TestData.Bytes("heap");
        data[10] = 0xFF; // first deflate block header: BTYPE 11 is reserved

        Assert.Equal("corrupt gzip data after 0 decompressed bytes: invalid deflate data or checksum", Refused(data));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Gzip_of_text_is_refused_as_protobuf_that_makes_no_sense() => Spec.Run(() =>
    {
        byte[] text = Encoding.UTF8.GetBytes("goroutine profile: total 8\n1 @ 0x43a3d6 0x4067ef\n");

        // 'g' = 0x67 is field 12 (period) with wire type 7, which does not exist.
        Assert.Equal("unsupported wire type 7 at byte offset 1", Refused(Gzip(text)));
        Assert.Equal("unsupported wire type 7 at byte offset 1", Refused(text));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_compressed_twice_is_refused_as_such() => Spec.Run(() =>
    {
        Assert.Equal("profile is gzip-compressed twice", Refused(Gzip(TestData.Bytes("cpu"))));
    });

    // ---- truncated protobuf ------------------------------------------------------------------------------

    [Fact(Timeout = Spec.Timeout)]
    public Task A_plain_profile_cut_inside_a_field_reports_the_field_that_runs_past_the_end() => Spec.Run(() =>
    {
        // Valid ends with the sample: 0x12, length 6, then 6 bytes. Cut 2 bytes into them.
        byte[] cut = Valid[..(H + 4)];
        Assert.Equal($"length 6 runs past the end of the enclosing message (2 bytes left) at byte offset {H + 1}", Refused(cut));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_real_plain_profile_cut_in_half_reports_the_top_level_field_that_runs_past_the_end() => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain("cpu");
        int cut = plain.Length / 2;

        // Walk the top-level fields (Go writes varints and length-delimited ones) to the one the cut falls into.
        int position = 0, lengthAt, length;
        while (true)
        {
            ulong tag = ReadVarint(plain, ref position);
            lengthAt = position;
            if ((tag & 7) == Wire.VarintType)
            {
                ReadVarint(plain, ref position);
                continue;
            }

            Assert.Equal((ulong)Wire.LenType, tag & 7);
            length = (int)ReadVarint(plain, ref position);
            if (position + length > cut)
            {
                break;
            }

            position += length;
        }

        cut = Math.Max(cut, position + 1); // the cut must fall into the payload, not into the length itself
        Assert.Equal(
            $"length {length} runs past the end of the enclosing message ({cut - position} bytes left) at byte offset {lengthAt}",
            Refused(plain[..cut]));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_real_plain_profile_cut_anywhere_before_the_end_of_its_string_table_is_refused() => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain("heap");
        var reference = Reference.Profile.Parser.ParseFrom(plain);
        byte[] lastString = LenField(6, Encoding.UTF8.GetBytes(reference.StringTable[^1]));
        int stringTableEnd = plain.AsSpan().LastIndexOf(lastString) + lastString.Length;
        Assert.True(stringTableEnd > plain.Length / 2, "Go writes the string table near the end");

        int refused = 0;
        for (int cut = 1; cut < stringTableEnd; cut += 7)
        {
            Refused(plain[..cut], viaStreamToo: false);
            refused++;
        }

        Assert.True(refused > 100, $"only {refused} cuts");
    });

    // ---- references ------------------------------------------------------------------------------------

    [Fact(Timeout = Spec.Timeout)]
    public Task A_sample_referring_to_a_missing_location_is_refused_with_sample_index_and_id() => Spec.Run(() =>
    {
        Assert.Equal(
            $"sample 0 refers to missing location id 9 at byte offset {H + 5}",
            Refused(Concat(Header, LenField(2, Packed(1, 1, 9), Packed(2, 5)))));
        Assert.Equal(
            $"sample 1 refers to missing location id 9 at byte offset {V + 3}",
            Refused(Concat(Valid, LenField(2, VarintField(1, 9), Packed(2, 5)))));
        Assert.Equal(
            $"sample 1 refers to missing location id 0 at byte offset {V + 4}",
            Refused(Concat(Valid, LenField(2, Packed(1, 0), Packed(2, 5)))));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_line_referring_to_a_missing_function_is_refused() => Spec.Run(() =>
    {
        byte[] location = LenField(4, VarintField(1, 2), LenField(4, VarintField(1, 1), VarintField(2, 10)), LenField(4, VarintField(1, 9)));
        Assert.Equal($"line refers to missing function id 9 at byte offset {V + 13}", Refused(Concat(Valid, location)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_location_referring_to_a_missing_mapping_is_refused() => Spec.Run(() =>
    {
        byte[] location = LenField(4, VarintField(1, 2), VarintField(2, 7));
        Assert.Equal($"location refers to missing mapping id 7 at byte offset {V + 5}", Refused(Concat(Valid, location)));
    });

    public static TheoryData<string, byte[], long, int> DuplicateIds()
    {
        byte[] sparse = LenField(4, VarintField(1, 1L << 40)); // ids this far apart take the dictionary path
        return new()
        {
            // kind, entry appended twice to Valid, its id, where the duplicate starts after Valid
            { "location", LenField(4, VarintField(1, 1)), 1, 0 },
            { "function", LenField(5, VarintField(1, 1), VarintField(2, 3)), 1, 0 },
            { "mapping", LenField(3, VarintField(1, 1)), 1, 0 },
            { "location", sparse, 1L << 40, sparse.Length },
        };
    }

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(DuplicateIds))]
    public Task A_duplicate_id_is_refused_at_the_second_entry(string kind, byte[] entry, long id, int offset) => Spec.Run(() =>
    {
        Assert.Equal($"duplicate {kind} id {id} at byte offset {V + offset}", Refused(Concat(Valid, entry, entry)));
    });

    // ---- the string table ------------------------------------------------------------------------------

    public static TheoryData<string, byte[], int> StringIndexes() => new()
    {
        // field, bytes appended to Valid holding string index 1000, offset of that index within them
        { "sample_type.type", LenField(1, VarintField(1, 1000), VarintField(2, 2)), 3 },
        { "sample_type.unit", LenField(1, VarintField(1, 1), VarintField(2, 1000)), 5 },
        { "period_type.type", LenField(11, VarintField(1, 1000)), 3 },
        { "mapping.filename", LenField(3, VarintField(1, 2), VarintField(5, 1000)), 5 },
        { "mapping.build_id", LenField(3, VarintField(1, 2), VarintField(6, 1000)), 5 },
        { "function.name", LenField(5, VarintField(1, 2), VarintField(2, 1000)), 5 },
        { "function.system_name", LenField(5, VarintField(1, 2), VarintField(3, 1000)), 5 },
        { "function.filename", LenField(5, VarintField(1, 2), VarintField(4, 1000)), 5 },
        { "label.key", LenField(2, Packed(2, 5), LenField(3, VarintField(1, 1000))), 8 },
        { "label.str", LenField(2, Packed(2, 5), LenField(3, VarintField(1, 1), VarintField(2, 1000))), 10 },
        { "label.num_unit", LenField(2, Packed(2, 5), LenField(3, VarintField(1, 1), VarintField(3, 8), VarintField(4, 1000))), 12 },
        { "drop_frames", VarintField(7, 1000), 1 },
        { "keep_frames", VarintField(8, 1000), 1 },
        { "comment", VarintField(13, 1000), 1 },
        { "comment", Packed(13, 1, 2, 1000), 4 },
        { "default_sample_type", VarintField(14, 1000), 1 },
        { "doc_url", VarintField(15, 1000), 1 },
    };

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(StringIndexes))]
    public Task A_string_index_out_of_range_is_refused_naming_the_field(string field, byte[] appended, int offset) => Spec.Run(() =>
    {
        Assert.Equal(
            $"{field} string index 1000 out of range (string table has 5 entries) at byte offset {V + offset}",
            Refused(Concat(Valid, appended)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_negative_string_index_is_refused_as_negative() => Spec.Run(() =>
    {
        Assert.Equal(
            $"drop_frames string index -1 out of range (string table has 5 entries) at byte offset {V + 1}",
            Refused(Concat(Valid, VarintField(7, -1))));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_string_table_whose_first_entry_is_not_empty_is_refused() => Spec.Run(() =>
    {
        Assert.Equal("string_table[0] must be empty at byte offset 2", Refused(Concat(Strings("x", "samples"), Valid)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_without_a_string_table_is_refused() => Spec.Run(() =>
    {
        Assert.Equal(
            "string table is missing: string_table[0] must be the empty string",
            Refused(Concat(LenField(1, VarintField(1, 1)), LenField(2, Packed(2, 5)))));
    });

    // ---- samples ---------------------------------------------------------------------------------------

    [Fact(Timeout = Spec.Timeout)]
    public Task A_sample_with_the_wrong_number_of_values_is_refused() => Spec.Run(() =>
    {
        Assert.Equal(
            $"sample 0 has 2 values but the profile has 1 sample types at byte offset {H}",
            Refused(Concat(Header, LenField(2, Packed(1, 1), Packed(2, 5, 6)))));
        Assert.Equal(
            $"sample 1 has 0 values but the profile has 1 sample types at byte offset {V}",
            Refused(Concat(Valid, LenField(2, Packed(1, 1)))));
        Assert.Equal(
            $"sample 1 has 3 values but the profile has 1 sample types at byte offset {V}",
            Refused(Concat(Valid, LenField(2, Packed(2, 5), VarintField(2, 6), Packed(2, 7)))));
    });

    // ---- wire format -----------------------------------------------------------------------------------

    public static TheoryData<string, byte[], string> WireErrors() => new()
    {
        { "string_table as a varint", Concat(VarintField(6, 0), Valid), "string_table has wire type 0, expected 2 at byte offset 1" },
        { "sample_type as a varint", Concat(Valid, VarintField(1, 5)), $"sample_type has wire type 0, expected 2 at byte offset {V + 1}" },
        { "sample as fixed32", Concat(Valid, Tag(2, Wire.Fixed32Type), [1, 2, 3, 4]), $"sample has wire type 5, expected 2 at byte offset {V + 1}" },
        { "location.id as bytes", Concat(Valid, LenField(4, LenField(1, [1]))), $"location.id has wire type 2, expected 0 at byte offset {V + 3}" },
        { "sample.value as fixed64", Concat(Header, LenField(2, Packed(1, 1), Tag(2, Wire.Fixed64Type), new byte[8])), $"sample.value has wire type 1, expected 0 at byte offset {H + 6}" },
        { "function.name as fixed32", Concat(Valid, LenField(5, VarintField(1, 2), Tag(2, Wire.Fixed32Type), new byte[4])), $"function.name has wire type 5, expected 0 at byte offset {V + 5}" },
        { "period as bytes", Concat(Valid, LenField(12, [1])), $"period has wire type 2, expected 0 at byte offset {V + 1}" },
        { "a group (wire type 3)", Concat(Valid, Tag(99, 3)), $"unsupported wire type 3 at byte offset {V + 2}" },
        { "wire type 6", Concat(Valid, Tag(99, 6)), $"unsupported wire type 6 at byte offset {V + 2}" },
        { "field number 0", Concat(Valid, [0x00]), $"invalid field number 0 at byte offset {V}" },
        { "an 11-byte varint", Concat(Valid, Tag(12, 0), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), $"varint longer than 64 bits at byte offset {V + 1}" },
        { "a 10-byte varint above 2^64", Concat(Valid, Tag(12, 0), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]), $"varint longer than 64 bits at byte offset {V + 1}" },
        { "an 11-byte tag", Concat(Valid, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), $"varint longer than 64 bits at byte offset {V}" },
        { "a varint cut short", Concat(Valid, Tag(12, 0), [0x80]), $"truncated varint at byte offset {V + 1}" },
        { "a fixed64 cut short", Concat(Valid, Tag(99, Wire.Fixed64Type), [1, 2, 3]), $"truncated fixed-width field at byte offset {V + 2}" },
        { "a length past the end", Concat(Valid, Tag(6, Wire.LenType), Varint(100), "abc"u8.ToArray()), $"length 100 runs past the end of the enclosing message (3 bytes left) at byte offset {V + 1}" },
        { "a length of 2^64-1", Concat(Valid, Tag(99, Wire.LenType), Varint(ulong.MaxValue), [1]), $"length 18446744073709551615 runs past the end of the enclosing message (1 bytes left) at byte offset {V + 2}" },
        { "a line longer than its location", Concat(Valid, LenField(4, VarintField(1, 2), Tag(4, Wire.LenType), [0x05, 0x08, 0x01])), $"length 5 runs past the end of the enclosing message (2 bytes left) at byte offset {V + 5}" },
        { "a field number above 2^29-1", Concat(Valid, Varint((1UL << 32) | 0)), $"invalid field number 536870912 at byte offset {V}" },
    };

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(WireErrors))]
    public Task Malformed_protobuf_is_refused_with_what_and_where(string what, byte[] input, string expected) => Spec.Run(() =>
    {
        _ = what; // names the case in the test's display name
        Assert.Equal(expected, Refused(input));
    });

    // ---- limits and bombs ------------------------------------------------------------------------------

    [Fact(Timeout = Spec.Timeout)]
    public Task A_gzip_bomb_of_300_MiB_of_zeros_is_refused_at_the_default_limit() => Spec.Run(() =>
    {
        byte[] bomb = ZeroBomb.Value;
        Assert.True(bomb.Length < 1 << 20, $"{bomb.Length} compressed bytes");

        Assert.Equal(
            "decompressed profile exceeds the limit of 268435456 bytes (MaxDecompressedBytes); refusing to inflate further",
            Refused(bomb, viaStreamToo: false));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_gzip_bomb_under_a_small_limit_is_refused_quickly_in_memory_bounded_by_the_limit() => Spec.Run(() =>
    {
        byte[] bomb = ZeroBomb.Value;
        var limits = new PprofLimits { MaxDecompressedBytes = 8 << 20 };
        Refused(bomb, limits, viaStreamToo: false); // warm up

        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        string message = Refused(bomb, limits, viaStreamToo: false);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        clock.Stop();

        Assert.Equal("decompressed profile exceeds the limit of 8388608 bytes (MaxDecompressedBytes); refusing to inflate further", message);
        Assert.True(allocated < 32L << 20, $"allocated {allocated} bytes to refuse 300 MiB under an 8 MiB limit");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    });

    private static byte[] ManyIdenticalSamples(int count)
    {
        byte[] sample = LenField(2, Packed(1, 1), Packed(2, 5));
        var bytes = new byte[H + count * sample.Length];
        Header.CopyTo(bytes, 0);
        for (int i = 0; i < count; i++)
        {
            sample.CopyTo(bytes, H + i * sample.Length);
        }

        return bytes;
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task A_bomb_of_valid_protobuf_is_refused_under_a_small_limit_and_decodes_under_a_large_one() => Spec.Run(() =>
    {
        const int Count = 1_000_000;
        byte[] plain = ManyIdenticalSamples(Count);
        byte[] bomb = Gzip(plain, CompressionLevel.SmallestSize);
        Assert.True(bomb.Length * 100L < plain.Length, $"{plain.Length} bytes compress to {bomb.Length}");

        Assert.Equal(
            "decompressed profile exceeds the limit of 4194304 bytes (MaxDecompressedBytes); refusing to inflate further",
            Refused(bomb, new PprofLimits { MaxDecompressedBytes = 4 << 20 }, viaStreamToo: false));

        Profile p = ProfileReader.Read(bomb);
        Assert.Equal(Count, p.SampleCount);
        Assert.Equal(1, p.StackCount);
        Assert.Equal(5L * Count, p.Total(0));
    });

    public static TheoryData<string, bool> ProfilesPlainAndGzip()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in new[] { "cpu", "goroutine" })
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(ProfilesPlainAndGzip))]
    public Task A_profile_exactly_at_the_limit_is_accepted_and_one_byte_over_is_refused(string profile, bool gzip) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);
        byte[] input = gzip ? TestData.Bytes(profile) : plain;
        var exact = new PprofLimits { MaxDecompressedBytes = plain.Length };
        var under = new PprofLimits { MaxDecompressedBytes = plain.Length - 1 };

        Assert.Equal(ProfileContent.Of(ProfileReader.Read(input)), ProfileContent.Of(ProfileReader.Read(input, exact)));
        Assert.Equal(ProfileContent.Of(ProfileReader.Read(input)), ProfileContent.Of(ProfileReader.Read(new MemoryStream(input), exact)));

        string overLimit = $"decompressed profile exceeds the limit of {plain.Length - 1} bytes (MaxDecompressedBytes); refusing to inflate further";
        if (gzip)
        {
            Assert.Equal(overLimit, Refused(input, under));
        }
        else
        {
            Assert.Equal($"profile of {plain.Length} bytes exceeds the limit of {plain.Length - 1} bytes (MaxDecompressedBytes)", Refused(input, under, viaStreamToo: false));
            Assert.Equal(overLimit, Assert.Throws<PprofFormatException>(() => ProfileReader.Read(new MemoryStream(input), under)).Message);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Many_sample_types_do_not_make_the_decoder_allocate_ahead_of_the_input() => Spec.Run(() =>
    {
        // 200,000 empty sample types: 400 KB of input, no samples. Capacity must follow the bytes, not a product of counts.
        const int Types = 200_000;
        byte[] input = Concat(Strings(""), Concat(Enumerable.Repeat(LenField(1), Types).ToArray()));
        ProfileReader.Read(input); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        Profile p = ProfileReader.Read(input);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Types, p.SampleTypes.Length);
        Assert.Equal(0, p.SampleCount);
        Assert.True(allocated < 64L << 20, $"allocated {allocated} bytes to decode {input.Length} bytes");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Two_million_sample_types_decode_without_an_arithmetic_overflow() => Spec.Run(() =>
    {
        const int Types = 1 << 21;
        byte[] input = new byte[2 + (2 * Types)];
        input[0] = 0x32; // string_table: ""
        for (int i = 2; i < input.Length; i += 2)
        {
            input[i] = 0x0A; // sample_type: empty message
        }

        Profile p = ProfileReader.Read(Gzip(input));

        Assert.Equal(Types, p.SampleTypes.Length);
    });

    private static ulong ReadVarint(byte[] data, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
