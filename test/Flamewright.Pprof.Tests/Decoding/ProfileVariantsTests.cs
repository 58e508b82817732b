using System.IO.Compression;
using System.Text.Json;
using Flamewright.Pprof.Analysis;
using Google.Protobuf;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;
using static Flamewright.Testing.Wire;
using Ref = Flamewright.Pprof.Tests.Reference;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// Everything protobuf and profile.proto allow is accepted and means the same: packed or unpacked repeated
/// fields, ids in any order and range, fields in any order, unknown fields, and the rarer corners of the format.
/// </summary>
public sealed class ProfileVariantsTests
{
    public static TheoryData<string> Profiles => ProfileCases.EveryProfile();

    private static Ref.Profile Reference(string profile) => Ref.Profile.Parser.ParseFrom(TestData.Plain(profile));

    private static List<string> Decoded(byte[] bytes) => ProfileContent.Of(ProfileReader.Read(bytes));

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task Packed_and_unpacked_repeated_fields_decode_to_the_same_samples(string profile) => Spec.Run(() =>
    {
        Ref.Profile reference = Reference(profile);
        List<string> expected = ProfileContent.Of(reference);
        byte[] packed = new VariantEncoder { Packed = true }.Encode(reference);
        byte[] unpacked = new VariantEncoder { Packed = false }.Encode(reference);
        Assert.Equal(reference, Ref.Profile.Parser.ParseFrom(unpacked)); // the encoder is right
        if (reference.Sample.Count > 0)
        {
            Assert.True(unpacked.Length > packed.Length, "unpacked fields repeat the tag for every value");
        }

        Assert.Equal(expected, Decoded(packed));
        Assert.Equal(expected, Decoded(unpacked));
        Assert.Equal(expected, ProfileContent.Of(ProfileReader.Read(TestData.Plain(profile))));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Packed_and_unpacked_runs_of_one_field_concatenate_in_order() => Spec.Run(() =>
    {
        byte[] header = Concat(
            Strings("", "samples", "count", "cpu", "nanoseconds", "f"),
            LenField(1, VarintField(1, 1), VarintField(2, 2)),
            LenField(1, VarintField(1, 3), VarintField(2, 4)),
            LenField(5, VarintField(1, 1), VarintField(2, 5)),
            Concat(Enumerable.Range(1, 4).Select(id => LenField(4, VarintField(1, id), LenField(4, VarintField(1, 1), VarintField(2, id)))).ToArray()));
        byte[] sample = LenField(2, Packed(1, 1, 2), VarintField(2, 10), VarintField(1, 3), Packed(1), Packed(2, 20), Packed(1, 4));

        Profile p = ProfileReader.Read(Concat(header, sample, Packed(13, 5), VarintField(13, 3), Packed(13, 4, 1)));

        Sample s = p.GetSample(0);
        Assert.Equal([1UL, 2, 3, 4], s.LocationIndexes.ToArray().Select(i => p.Locations[i].Id));
        Assert.Equal([10L, 20], s.Values.ToArray());
        Assert.Equal(["f", "cpu", "nanoseconds", "samples"], p.Comments.ToArray());
    });

    public static TheoryData<string, string> ProfilesAndIdSchemes()
    {
        var data = new TheoryData<string, string>();
        foreach (string profile in TestData.AllProfiles().Select(p => p.Name))
        {
            foreach (string scheme in new[] { "plus 7", "times 1000", "shuffled", "2^40 plus shuffled", "near 2^64", "reversed" })
            {
                data.Add(profile, scheme);
            }
        }

        return data;
    }

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(ProfilesAndIdSchemes))]
    public Task Ids_that_are_not_1_to_N_resolve_by_id_not_by_position(string profile, string scheme) => Spec.Run(() =>
    {
        Ref.Profile reference = Reference(profile);
        Ref.Profile renumbered = reference.Clone();
        var random = new Random(42);
        Func<ulong, ulong> Scheme(int count)
        {
            ulong[] permutation = [.. Enumerable.Range(1, count).Select(i => (ulong)i)];
            random.Shuffle(permutation);
            return scheme switch
            {
                "plus 7" => id => id + 7,
                "times 1000" => id => id * 1000,
                "shuffled" => id => permutation[id - 1],
                "2^40 plus shuffled" => id => (1UL << 40) + permutation[id - 1],
                "near 2^64" => id => ulong.MaxValue - id + 1,
                _ => id => (ulong)count + 1 - id,
            };
        }

        Func<ulong, ulong> location = Scheme(reference.Location.Count);
        Func<ulong, ulong> function = Scheme(reference.Function.Count);
        Func<ulong, ulong> mapping = Scheme(reference.Mapping.Count);
        Assert.All(reference.Location.Select((l, i) => l.Id == (ulong)i + 1), Assert.True); // Go numbers 1..N
        foreach (Ref.Mapping m in renumbered.Mapping)
        {
            m.Id = mapping(m.Id);
        }

        foreach (Ref.Function f in renumbered.Function)
        {
            f.Id = function(f.Id);
        }

        foreach (Ref.Location l in renumbered.Location)
        {
            l.Id = location(l.Id);
            l.MappingId = l.MappingId == 0 ? 0 : mapping(l.MappingId);
            foreach (Ref.Line line in l.Line)
            {
                line.FunctionId = function(line.FunctionId);
            }
        }

        foreach (Ref.Sample s in renumbered.Sample)
        {
            for (int i = 0; i < s.LocationId.Count; i++)
            {
                s.LocationId[i] = location(s.LocationId[i]);
            }
        }

        // Entries in the message no longer line up with their ids either.
        Ref.Location[] locations = [.. renumbered.Location];
        random.Shuffle(locations);
        renumbered.Location.Clear();
        renumbered.Location.Add(locations);
        Ref.Function[] functions = [.. renumbered.Function];
        Array.Reverse(functions);
        renumbered.Function.Clear();
        renumbered.Function.Add(functions);

        Assert.Equal(ProfileContent.Of(reference), ProfileContent.Of(renumbered)); // the same profile, renumbered
        Profile decoded = ProfileReader.Read(renumbered.ToByteArray());
        Assert.Equal(ProfileContent.Of(reference), ProfileContent.Of(decoded));
        Assert.Equal(
            renumbered.Sample.Select(s => string.Join(",", s.LocationId)),
            Enumerable.Range(0, decoded.SampleCount).Select(i => string.Join(",", decoded.GetSample(i).LocationIndexes.ToArray().Select(l => decoded.Locations[l].Id))));
    });

    public static TheoryData<string, FieldOrder, int> ProfilesAndOrders()
    {
        var data = new TheoryData<string, FieldOrder, int>();
        foreach (string profile in TestData.AllProfiles().Select(p => p.Name))
        {
            data.Add(profile, FieldOrder.StringsFirstSamplesLast, 0);
            data.Add(profile, FieldOrder.Reversed, 0);
            data.Add(profile, FieldOrder.Interleaved, 1);
            data.Add(profile, FieldOrder.Interleaved, 2);
        }

        return data;
    }

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(ProfilesAndOrders))]
    public Task Fields_in_any_order_decode_to_the_same_profile(string profile, FieldOrder order, int seed) => Spec.Run(() =>
    {
        Ref.Profile reference = Reference(profile);
        byte[] canonical = new VariantEncoder().Encode(reference);
        byte[] reordered = new VariantEncoder { Order = order, Seed = seed }.Encode(reference);
        Assert.Equal(canonical.Length, reordered.Length);
        Assert.False(canonical.AsSpan().SequenceEqual(reordered), "the order changed");
        Assert.Equal(reference, Ref.Profile.Parser.ParseFrom(reordered));

        Assert.Equal(ProfileContent.Of(reference), Decoded(reordered));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task Unknown_fields_of_every_wire_type_are_skipped_in_every_message(string profile) => Spec.Run(() =>
    {
        Ref.Profile reference = Reference(profile);
        byte[] withUnknowns = new VariantEncoder { UnknownFields = true, Packed = false }.Encode(reference);
        Ref.Profile parsed = Ref.Profile.Parser.ParseFrom(withUnknowns);
        Assert.NotEqual(reference, parsed); // Google.Protobuf keeps the unknown fields...
        Assert.Equal(ProfileContent.Of(reference), ProfileContent.Of(parsed)); // ...and the content is the same

        Assert.Equal(ProfileContent.Of(reference), Decoded(withUnknowns));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Non_minimal_varints_up_to_ten_bytes_are_accepted() => Spec.Run(() =>
    {
        // 1 as a three-byte varint (81 80 00) for a location id, 5 as ten bytes for a value.
        byte[] bytes = Concat(
            Strings("", "samples", "count"),
            LenField(1, VarintField(1, 1), VarintField(2, 2)),
            LenField(4, Tag(1, VarintType), [0x81, 0x80, 0x00]),
            LenField(2, Tag(1, VarintType), [0x81, 0x80, 0x00], Tag(2, VarintType), [0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));

        Profile p = ProfileReader.Read(bytes);

        Assert.Equal(1UL, p.Locations[p.GetSample(0).LocationIndexes[0]].Id);
        Assert.Equal([5L], p.GetSample(0).Values.ToArray());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_without_samples_decodes_with_its_sample_types() => Spec.Run(() =>
    {
        Profile empty = ProfileReader.ReadFile(TestData.Profile("block-empty"));
        Assert.Equal(0, empty.SampleCount);
        Assert.Equal(0, empty.StackCount);
        Assert.Equal(["contentions/count", "delay/nanoseconds"], empty.SampleTypes.ToArray().Select(t => t.ToString()));
        Assert.Equal(0, empty.Total(1));

        Profile bare = ProfileReader.Read(Strings(""));
        Assert.Equal(0, bare.SampleCount);
        Assert.True(bare.SampleTypes.IsEmpty);
        Assert.Equal([""], bare.StringTable.ToArray());
        Assert.Null(bare.PeriodType);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_sample_without_locations_keeps_its_values_and_labels() => Spec.Run(() =>
    {
        byte[] bytes = Concat(
            Strings("", "threadcreate", "count", "k", "v"),
            LenField(1, VarintField(1, 1), VarintField(2, 2)),
            LenField(2, Packed(2, 4), LenField(3, VarintField(1, 3), VarintField(2, 4))),
            LenField(2, Packed(1), VarintField(2, 1)));

        Profile p = ProfileReader.Read(bytes);

        Assert.Equal(2, p.SampleCount);
        Assert.Equal(1, p.StackCount);
        Assert.True(p.GetSample(0).LocationIndexes.IsEmpty);
        Assert.True(p.GetSample(1).LocationIndexes.IsEmpty);
        Assert.Equal([new Label("k", "v", 0, null)], p.GetSample(0).Labels.ToArray());
        Assert.True(p.GetSample(1).Labels.IsEmpty);
        Assert.Equal(5, p.Total(0));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Negative_and_extreme_values_decode_exactly() => Spec.Run(() =>
    {
        long[] values = [-5, long.MinValue, long.MaxValue, -1, 0];
        var reference = new Ref.Profile
        {
            StringTable = { "", "a", "b", "c", "d", "e", "u" },
            SampleType = { Enumerable.Range(1, 5).Select(t => new Ref.ValueType { Type = t, Unit = 6 }) },
            Sample = { new Ref.Sample { Value = { values } }, new Ref.Sample { Value = { 1, 2, 3, 4, 5 } } },
        };

        foreach (byte[] bytes in new[] { reference.ToByteArray(), new VariantEncoder { Packed = false }.Encode(reference) })
        {
            Profile p = ProfileReader.Read(bytes);
            Assert.Equal(values, p.GetSample(0).Values.ToArray());
            Assert.Equal([1L, 2, 3, 4, 5], p.GetSample(1).Values.ToArray());
            Assert.Equal(-4, p.Total(0));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task String_and_numeric_labels_with_units_decode_as_written() => Spec.Run(() =>
    {
        var reference = new Ref.Profile
        {
            StringTable = { "", "samples", "count", "handler", "/api/v1, ünïcode", "bytes", "B", "tenant", "acme corp", "empty" },
            SampleType = { new Ref.ValueType { Type = 1, Unit = 2 } },
            Sample =
            {
                new Ref.Sample
                {
                    Value = { 1 },
                    Label =
                    {
                        new Ref.Label { Key = 3, Str = 4 },
                        new Ref.Label { Key = 5, Num = 4096, NumUnit = 6 },
                        new Ref.Label { Key = 5, Num = -7 },
                        new Ref.Label { Key = 7, Str = 8, Num = 99 }, // str wins, as in pprof
                        new Ref.Label { Key = 9 },
                    },
                },
                new Ref.Sample { Value = { 2 } },
                new Ref.Sample { Value = { 3 }, Label = { new Ref.Label { Key = 7, Str = 8 } } },
            },
        };

        Profile p = ProfileReader.Read(reference.ToByteArray());

        Assert.Equal(
            [
                new Label("handler", "/api/v1, ünïcode", 0, null),
                new Label("bytes", null, 4096, "B"),
                new Label("bytes", null, -7, null),
                new Label("tenant", "acme corp", 99, null),
                new Label("empty", null, 0, null),
            ],
            p.GetSample(0).Labels.ToArray());
        Assert.True(p.GetSample(1).Labels.IsEmpty);
        Assert.Equal([new Label("tenant", "acme corp", 0, null)], p.GetSample(2).Labels.ToArray());
        Assert.Equal("bytes:4096B", p.GetSample(0).Labels[1].ToString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_stack_thousands_of_frames_deep_decodes_and_goes_through_every_export() => Spec.Run(() =>
    {
        const int Depth = 3000;
        var reference = new Ref.Profile
        {
            StringTable = { "", "samples", "count" },
            SampleType = { new Ref.ValueType { Type = 1, Unit = 2 } },
            Sample = { new Ref.Sample { Value = { 7 }, LocationId = { Enumerable.Range(1, Depth).Select(i => (ulong)i) } } },
        };
        for (int i = 1; i <= Depth; i++)
        {
            reference.StringTable.Add($"f{i}");
            reference.Function.Add(new Ref.Function { Id = (ulong)i, Name = reference.StringTable.Count - 1 });
            reference.Location.Add(new Ref.Location { Id = (ulong)i, Line = { new Ref.Line { FunctionId = (ulong)i } } });
        }

        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.Read(reference.ToByteArray()));
        Assert.Equal(Depth + 1, tree.Count);
        Assert.Equal(Depth, tree.MaxDepth);

        using var json = new MemoryStream();
        JsonTree.Write(tree, json);

        // Read it back token by token (valid JSON, one object per frame, f1 innermost at depth 2 + 2 × Depth).
        var reader = new Utf8JsonReader(json.ToArray(), new JsonReaderOptions { MaxDepth = 3 * Depth });
        int maxDepth = 0, names = 0;
        string? innermost = null;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("name") && reader.CurrentDepth > 1)
            {
                names++;
                if (reader.CurrentDepth > maxDepth)
                {
                    maxDepth = reader.CurrentDepth;
                    reader.Read();
                    innermost = reader.GetString();
                }
            }
        }

        Assert.Equal(Depth + 1, names);
        Assert.Equal(2 + (2 * Depth), maxDepth);
        Assert.Equal("f1", innermost);
        Assert.Equal($"{string.Join(';', Enumerable.Range(1, Depth).Reverse().Select(i => $"f{i}"))} 7", Assert.Single(FoldedStacks.Lines(tree)));
        Assert.Equal(Depth + 1, SkyWalkingTree.Elements(tree).Count);
        Speedscope.Write(tree, Stream.Null, "deep");
    });

    private static Ref.Profile EveryMetadataField() => new()
    {
        StringTable = { "", "samples", "count", "cpu", "nanoseconds", "runtime\\..*", "main\\..*", "comment one", "comment two", "https://example.com/doc", "main", "main.go", "/bin/app", "b1d" },
        SampleType = { new Ref.ValueType { Type = 1, Unit = 2 }, new Ref.ValueType { Type = 3, Unit = 4 } },
        PeriodType = new Ref.ValueType { Type = 3, Unit = 4 },
        Period = 10_000_000,
        TimeNanos = 1_764_087_840_123_456_789,
        DurationNanos = 1_620_000_000,
        DropFrames = 5,
        KeepFrames = 6,
        Comment = { 7, 8, 7 },
        DefaultSampleType = 3,
        DocUrl = 9,
        Mapping = { new Ref.Mapping { Id = 1, MemoryStart = 0x400000, MemoryLimit = 0x4ff000, FileOffset = 0x1000, Filename = 12, BuildId = 13, HasFunctions = true, HasLineNumbers = true } },
        Function = { new Ref.Function { Id = 1, Name = 10, SystemName = 10, Filename = 11, StartLine = 3 } },
        Location = { new Ref.Location { Id = 1, MappingId = 1, Address = 0x401234, IsFolded = true, Line = { new Ref.Line { FunctionId = 1, Line_ = 12, Column = 7 } } } },
        Sample = { new Ref.Sample { LocationId = { 1 }, Value = { 1, 10_000_000 } } },
    };

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_metadata_field_decodes() => Spec.Run(() =>
    {
        Profile p = ProfileReader.Read(EveryMetadataField().ToByteArray());

        Assert.Equal(new Model.ValueType("cpu", "nanoseconds"), p.PeriodType);
        Assert.Equal(10_000_000, p.Period);
        Assert.Equal(1_764_087_840_123_456_789, p.TimeNanos);
        Assert.Equal(1_620_000_000, p.DurationNanos);
        Assert.Equal("runtime\\..*", p.DropFrames);
        Assert.Equal("main\\..*", p.KeepFrames);
        Assert.Equal(["comment one", "comment two", "comment one"], p.Comments.ToArray());
        Assert.Equal("cpu", p.DefaultSampleType);
        Assert.Equal(1, p.DefaultSampleTypeIndex);
        Assert.Equal("https://example.com/doc", p.DocUrl);
        Assert.Equal(new Mapping(1, 0x400000, 0x4ff000, 0x1000, "/bin/app", "b1d", true, false, true, false), p.Mappings[0]);
        Assert.Equal(new Function(1, "main", "main", "main.go", 3), p.Functions[0]);
        Assert.Equal(new Location(1, 0, 0x401234, true, 0, 1), p.Locations[0]);
        Assert.Equal(new Line(0, 12, 7), p.Lines[0]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_metadata_field_survives_our_writer_and_the_generated_parser() => Spec.Run(() =>
    {
        Ref.Profile original = EveryMetadataField();
        Profile decoded = ProfileReader.Read(original.ToByteArray());

        byte[] written = ProfileWriter.Encode(decoded);

        Assert.Equal(ProfileContent.Of(original), ProfileContent.Of(Ref.Profile.Parser.ParseFrom(written)));
        Assert.Equal(ProfileContent.Of(original), ProfileContent.Of(ProfileReader.Read(written)));
        Ref.Profile reparsed = Ref.Profile.Parser.ParseFrom(written);
        Assert.Equal("https://example.com/doc", reparsed.StringTable[(int)reparsed.DocUrl]);
    });

    public static TheoryData<string, CompressionLevel> ProfilesAndLevels()
    {
        var data = new TheoryData<string, CompressionLevel>();
        foreach (string profile in new[] { "cpu", "heap", "threadcreate" })
        {
            foreach (CompressionLevel level in Enum.GetValues<CompressionLevel>())
            {
                data.Add(profile, level);
            }
        }

        return data;
    }

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(ProfilesAndLevels))]
    public Task Gzip_at_any_compression_level_decodes_to_the_same_profile(string profile, CompressionLevel level) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);
        Assert.Equal(ProfileContent.Of(ProfileReader.Read(plain)), Decoded(Gzip(plain, level)));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task A_profile_gzipped_as_several_concatenated_members_decodes_as_gzip_readers_must(string profile) => Spec.Run(() =>
    {
        byte[] plain = TestData.Plain(profile);
        int third = plain.Length / 3;
        byte[] members = Concat(Gzip(plain.AsSpan(..third)), Gzip(plain.AsSpan(third..(2 * third))), Gzip(plain.AsSpan((2 * third)..)));
        Assert.Equal(plain, Gunzip(members));

        Assert.Equal(ProfileContent.Of(ProfileReader.Read(plain)), Decoded(members));
        Assert.Equal(ProfileContent.Of(ProfileReader.Read(plain)), ProfileContent.Of(ProfileReader.Read(new MemoryStream(members))));

        // A multi-member stream cut short is still refused.
        Assert.Throws<PprofFormatException>(() => ProfileReader.Read(members.AsMemory(..^3)));
    });
}
