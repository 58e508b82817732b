using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Digest;

/// <summary>
/// A profile read back from its digest answers every analysis as the profile itself does, for every testdata profile,
/// sample type, granularity and filter (and so as <c>go tool pprof</c> does, which other tests check the profile
/// against); a damaged digest or one of another format version is refused, never misread.
/// </summary>
public sealed class ProfileDigestTests
{
    public static TheoryData<string, int> SampleTypes => ProfileCases.EverySampleTypeOfEveryProfile();

    public static TheoryData<string> Profiles => ProfileCases.EveryProfile();

    public static TheoryData<string> FilteredOracles => ProfileCases.EveryFilteredOracle();

    private static Profile Decoded(string name) => ProfileReader.ReadFile(TestData.Profile(name));

    private static Profile RoundTripped(Profile profile) => ProfileDigest.Read(ProfileDigest.Write(profile));

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task The_flame_tree_and_top_table_from_a_digest_equal_the_profiles_at_both_granularities(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = Decoded(name);
        Profile digested = RoundTripped(profile);

        foreach (FrameGranularity granularity in new[] { FrameGranularity.Function, FrameGranularity.Line })
        {
            var options = new FlameOptions { SampleType = sampleType.ToString(System.Globalization.CultureInfo.InvariantCulture), Granularity = granularity };
            TreeInvariants.Same(FlameTreeBuilder.Build(profile, options), FlameTreeBuilder.Build(digested, options));
            AssertSameTop(TopTable.Build(profile, options), TopTable.Build(digested, options));
        }
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(FilteredOracles))]
    public Task Focus_and_ignore_keep_the_same_samples_of_a_digest_as_of_the_profile(string oracle) => Spec.Run(() =>
    {
        string[] parts = oracle.Split('.');
        PprofOracle.Top expected = PprofOracle.ReadTopFile(Path.Combine(TestData.FilteredOracles, oracle));
        string? Pattern(string option) =>
            expected.ActiveFilters.SingleOrDefault(f => f.StartsWith(option + "=", StringComparison.Ordinal))?[(option.Length + 1)..];
        var options = new FlameOptions { SampleType = parts[1], Focus = Pattern("focus"), Ignore = Pattern("ignore") };
        Profile digested = RoundTripped(Decoded(parts[0]));

        TopTable top = TopTable.Build(digested, options);

        Assert.Equal(expected.Total, top.AbsoluteTotal);
        Assert.Equal(expected.Shown, top.Total);
        Assert.Equal(
            expected.Functions.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value.Flat, f.Value.Cum)),
            top.Entries.OrderBy(e => e.Name, StringComparer.Ordinal).Select(e => (e.Name, e.Flat, e.Cum)));
        TreeInvariants.Same(FlameTreeBuilder.Build(Decoded(parts[0]), options), FlameTreeBuilder.Build(digested, options));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task A_digest_gives_back_every_part_of_the_profile_and_every_sample_with_its_stack_values_and_labels(string name) => Spec.Run(() =>
    {
        Profile profile = Decoded(name);

        Profile digested = RoundTripped(profile);

        Assert.Equal(profile.SampleTypes.ToArray(), digested.SampleTypes.ToArray());
        Assert.Equal(profile.Mappings.ToArray(), digested.Mappings.ToArray());
        Assert.Equal(profile.Functions.ToArray(), digested.Functions.ToArray());
        Assert.Equal(profile.Locations.ToArray(), digested.Locations.ToArray());
        Assert.Equal(profile.Lines.ToArray(), digested.Lines.ToArray());
        Assert.Equal(profile.Comments.ToArray(), digested.Comments.ToArray());
        Assert.Equal(
            (profile.PeriodType, profile.Period, profile.TimeNanos, profile.DurationNanos, profile.DropFrames, profile.KeepFrames, profile.DefaultSampleType, profile.DocUrl),
            (digested.PeriodType, digested.Period, digested.TimeNanos, digested.DurationNanos, digested.DropFrames, digested.KeepFrames, digested.DefaultSampleType, digested.DocUrl));
        Assert.Equal(profile.StackCount, digested.StackCount);
        Assert.Equal(Samples(profile), Samples(digested));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_digest_with_any_byte_changed_is_refused_by_its_checksum() => Spec.Run(() =>
    {
        byte[] digest = ProfileDigest.Write(Decoded("cpu"));
        var random = new Random(5);

        for (int i = 0; i < 50; i++)
        {
            byte[] damaged = (byte[])digest.Clone();
            int at = random.Next(20, damaged.Length);
            damaged[at] ^= (byte)random.Next(1, 256);

            DigestException e = Assert.Throws<DigestException>(() => ProfileDigest.Read(damaged));
            Assert.False(e.IsOtherVersion);
            Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_digest_of_another_format_version_is_refused_as_such() => Spec.Run(() =>
    {
        byte[] digest = ProfileDigest.Write(Decoded("heap"));
        digest[4] = (byte)(ProfileDigest.FormatVersion + 1);

        DigestException e = Assert.Throws<DigestException>(() => ProfileDigest.Read(digest));

        Assert.True(e.IsOtherVersion);
        Assert.Equal($"digest format version {ProfileDigest.FormatVersion + 1}, this build reads {ProfileDigest.FormatVersion}", e.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Truncated_bytes_and_pprof_bytes_are_not_read_as_a_digest() => Spec.Run(() =>
    {
        byte[] digest = ProfileDigest.Write(Decoded("goroutine"));

        Assert.Throws<DigestException>(() => ProfileDigest.Read(digest.AsSpan(0, digest.Length - 1)));
        Assert.Throws<DigestException>(() => ProfileDigest.Read(digest.AsSpan(0, 10)));
        Assert.Equal("not a profile digest", Assert.Throws<DigestException>(() => ProfileDigest.Read(TestData.Bytes("goroutine"))).Message);
        Assert.Equal("not a profile digest", Assert.Throws<DigestException>(() => ProfileDigest.Read([])).Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_digest_whose_checksum_was_forged_over_bad_counts_fails_with_a_digest_error_not_a_crash() => Spec.Run(() =>
    {
        // Bytes that pass the checksum but say nonsense: a string count far beyond the bytes left.
        byte[] body = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
        byte[] digest = WithHeader(body);

        DigestException e = Assert.Throws<DigestException>(() => ProfileDigest.Read(digest));

        Assert.Contains("exceeds its remaining", e.Message, StringComparison.Ordinal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Stacks_that_share_their_root_side_are_written_as_what_they_add() => Spec.Run(() =>
    {
        // 2,000 stacks 40 locations deep that differ only in their last two: a service's calls under one handler.
        var builder = new ProfileBuilder([new Model.ValueType("samples", "count")]);
        int[] locations = [.. Enumerable.Range(0, 300).Select(i => builder.AddLocation([new Line(builder.AddFunction($"pkg.F{i}", $"pkg.F{i}", "f.go", 1), 10, 0)], -1, (ulong)i))];
        var random = new Random(3);
        var stacks = new HashSet<string>();
        while (stacks.Count < 2000)
        {
            int[] leafFirst = [locations[random.Next(300)], locations[random.Next(300)], .. Enumerable.Range(0, 38).Select(i => locations[i])];
            if (stacks.Add(string.Join(',', leafFirst)))
            {
                builder.AddSample(leafFirst, [1], []);
            }
        }

        byte[] digest = ProfileDigest.Write(builder.Build());

        // Written whole, the stacks alone would take 2,000 × 40 ids of two bytes (160,000); shared, each adds two ids,
        // so the whole digest (names, locations, samples) is a fraction of that.
        Assert.InRange(digest.Length, 1, 160_000 / 4);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_deep_stack_that_shares_more_locations_than_bytes_are_left_reads_back() => Spec.Run(() =>
    {
        // Two stacks 300 locations deep that differ in their leaf, at the end of a small digest: the second shares 300
        // locations, written in two bytes, with fewer bytes than that left after it.
        var builder = new ProfileBuilder([new Model.ValueType("samples", "count")]);
        int[] chain = [.. Enumerable.Range(0, 300).Select(i => builder.AddLocation([new Line(builder.AddFunction("recurse", "recurse", "r.go", 1), 10, 0)], -1, (ulong)i))];
        int leafA = builder.AddLocation([new Line(builder.AddFunction("leafA", "leafA", "r.go", 1), 20, 0)], -1, 1000);
        int leafB = builder.AddLocation([new Line(builder.AddFunction("leafB", "leafB", "r.go", 1), 30, 0)], -1, 1001);
        builder.AddSample([leafA, .. chain.Reverse()], [5], []);
        builder.AddSample([leafB, .. chain.Reverse()], [7], []);
        Profile profile = builder.Build();

        byte[] digest = ProfileDigest.Write(profile);

        Assert.Equal(Tests.Analysis.Stacks.Render(FlameTreeBuilder.Build(profile)), Tests.Analysis.Stacks.Render(FlameTreeBuilder.Build(ProfileDigest.Read(digest))));
        Assert.Equal(2, ProfileDigest.ReadStacks(digest).StackCount);
    });

    private static byte[] WithHeader(byte[] body)
    {
        // The header of a real digest, with the body swapped and its length and checksum made to match.
        byte[] real = ProfileDigest.Write(Decoded("heap"));
        var digest = new byte[20 + body.Length];
        real.AsSpan(0, 8).CopyTo(digest);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(digest.AsSpan(8), body.Length);
        body.CopyTo(digest.AsSpan(20));
        uint crc = ~0u;
        foreach (byte b in body)
        {
            crc = System.Numerics.BitOperations.Crc32C(crc, b);
        }

        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(16), ~crc);
        return digest;
    }

    /// <summary>Each sample as its stack's locations, values and labels, in a fixed order.</summary>
    private static List<string> Samples(Profile profile)
    {
        var samples = new List<string>(profile.SampleCount);
        for (int i = 0; i < profile.SampleCount; i++)
        {
            Sample sample = profile.GetSample(i);
            samples.Add(string.Join(',', sample.LocationIndexes.ToArray()) + " | " + string.Join(',', sample.Values.ToArray())
                + " | " + string.Join(',', sample.Labels.ToArray()));
        }

        samples.Sort(StringComparer.Ordinal);
        return samples;
    }

    private static void AssertSameTop(TopTable expected, TopTable actual)
    {
        Assert.Equal((expected.Total, expected.AbsoluteTotal, expected.SampleType), (actual.Total, actual.AbsoluteTotal, actual.SampleType));
        Assert.Equal(expected.Entries, actual.Entries);
    }
}
