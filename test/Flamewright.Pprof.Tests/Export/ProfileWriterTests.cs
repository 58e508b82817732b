using System.Globalization;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Analysis;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Export;

/// <summary>Profiles written as profile.proto and read back by our reader.</summary>
public sealed class ProfileWriterTests
{
    public static TheoryData<string> RealProfiles => ProfileCases.EveryProfile();

    private static Profile Everything()
    {
        var builder = new ProfileBuilder([Stacks.Samples, Stacks.Cpu])
        {
            PeriodType = Stacks.Cpu,
            Period = 10_000_000,
            TimeNanos = 1_764_088_000_000_000_000,
            DurationNanos = 3_000_000_000,
            DefaultSampleType = "cpu",
            DropFrames = @"runtime\..*",
            KeepFrames = @"main\..*",
            DocUrl = "https://example.com/doc",
        };
        builder.AddComment("first comment");
        builder.AddComment("ünïcode ✓");
        int exe = builder.AddMapping(new Mapping(0, 0x400000, 0x800000, 0, "/app/server", "abc123", true, true, true, false));
        int lib = builder.AddMapping(new Mapping(0, 0x7f0000, 0x7f1000, 0x1000, "/lib/libc.so.6", "", false, false, false, false));
        int main = builder.AddFunction("main.main", "main.main", "/src/main.go", 10);
        int work = builder.AddFunction("main.(*T).work", "main.(*T).work", "/src/work.go", 40);
        int helper = builder.AddFunction("main.helper", "", "/src/work.go", 80);
        int locMain = builder.AddLocation([new Line(main, 12, 3)], exe, 0x401000);
        int locWork = builder.AddLocation([new Line(helper, 81, 0), new Line(work, 45, 7)], exe, 0x402000);
        int locLib = builder.AddLocation([], lib, 0x7f0100);
        int locFolded = builder.AddLocation([new Line(work, 46, 0)], -1, 0, isFolded: true);
        builder.AddSample([locWork, locMain], [1, 10_000_000], [new Label("handler", "/api/v1, ünïcode", 0, null), new Label("bytes", null, 2304, "bytes")]);
        builder.AddSample([locLib, locWork, locMain], [2, 20_000_000]);
        builder.AddSample([], [1, 5]);
        builder.AddSample([locFolded, locMain], [-3, -30], [new Label("tenant", "acme corp", 0, null), new Label("n", null, -7, null)]);
        builder.AddSample([locWork, locMain], [0, 0]);
        return builder.Build();
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task Encode_then_read_gives_back_every_field_sample_value_and_label() => Spec.Run(() =>
    {
        Profile original = Everything();

        Profile read = ProfileReader.Read(ProfileWriter.Encode(original));

        AssertSame(original, read);
        Assert.Equal(["first comment", "ünïcode ✓"], read.Comments.ToArray());
        Assert.Equal(Stacks.Cpu, read.PeriodType);
        Assert.Equal(10_000_000, read.Period);
        Assert.Equal(1_764_088_000_000_000_000, read.TimeNanos);
        Assert.Equal(3_000_000_000, read.DurationNanos);
        Assert.Equal("cpu", read.DefaultSampleType);
        Assert.Equal(@"runtime\..*", read.DropFrames);
        Assert.Equal(@"main\..*", read.KeepFrames);
        Assert.Equal("https://example.com/doc", read.DocUrl);
        Assert.Equal(
        [
            "1,10000000 | handler:/api/v1, ünïcode bytes:2304bytes | main.helper:81 main.(*T).work:45 main.main:12",
            "2,20000000 |  | [libc.so.6] main.helper:81 main.(*T).work:45 main.main:12",
            "1,5 |  | ",
            "-3,-30 | tenant:acme corp n:-7 | main.(*T).work:46 main.main:12",
            "0,0 |  | main.helper:81 main.(*T).work:45 main.main:12",
        ], Describe(read));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Write_compresses_with_gzip_unless_told_not_to_and_both_read_back() => Spec.Run(() =>
    {
        Profile original = Everything();
        using var gzipped = new MemoryStream();
        using var plain = new MemoryStream();
        ProfileWriter.Write(original, gzipped);
        ProfileWriter.Write(original, plain, gzip: false);

        Assert.True(ProfileReader.IsGzip(gzipped.ToArray()));
        Assert.Equal(ProfileWriter.Encode(original), plain.ToArray());
        gzipped.Position = 0;
        AssertSame(original, ProfileReader.Read(gzipped));
        AssertSame(original, ProfileReader.Read(plain.ToArray()));

        string path = Path.Combine(Path.GetTempPath(), $"flamewright-writer-{Guid.NewGuid():N}.pb.gz");
        try
        {
            ProfileWriter.WriteFile(original, path);
            AssertSame(original, ProfileReader.ReadFile(path));
        }
        finally
        {
            File.Delete(path);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_written_gzip_profile_cut_short_anywhere_near_its_end_is_refused() => Spec.Run(() =>
    {
        using var gzipped = new MemoryStream();
        ProfileWriter.Write(ProfileReader.ReadFile(TestData.Profile("cpu")), gzipped);
        byte[] whole = gzipped.ToArray();

        Assert.Equal(ProfileReader.ReadFile(TestData.Profile("cpu")).SampleCount, ProfileReader.Read(whole).SampleCount);
        for (int cut = 1; cut <= 16; cut++)
        {
            byte[] truncated = whole[..^cut];
            var error = Assert.Throws<PprofFormatException>(() => ProfileReader.Read(truncated));
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }

        Assert.Equal(
            "truncated gzip data (or bytes after it): the input does not end with the gzip trailer",
            Assert.Throws<PprofFormatException>(() => ProfileReader.Read(whole.AsMemory(0, whole.Length - 4))).Message);
        Assert.Equal(
            "truncated gzip data (or bytes after it): the input does not end with the gzip trailer",
            Assert.Throws<PprofFormatException>(() => ProfileReader.Read(whole.AsMemory(0, 10))).Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_profile_gzipped_as_two_concatenated_members_reads_as_one() => Spec.Run(() =>
    {
        Profile original = Everything();
        byte[] encoded = ProfileWriter.Encode(original);
        using var members = new MemoryStream();
        foreach (byte[] part in new[] { encoded[..(encoded.Length / 3)], encoded[(encoded.Length / 3)..] })
        {
            using var member = new System.IO.Compression.GZipStream(members, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true);
            member.Write(part);
        }

        byte[] bytes = members.ToArray();

        AssertSame(original, ProfileReader.Read(bytes));
        Assert.Throws<PprofFormatException>(() => ProfileReader.Read(bytes.AsMemory(0, bytes.Length - 1)));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(RealProfiles))]
    public Task Every_real_profile_survives_a_write_and_read(string name) => Spec.Run(() =>
    {
        Profile original = ProfileReader.ReadFile(TestData.Profile(name));

        Profile read = ProfileReader.Read(ProfileWriter.Encode(original));

        AssertSame(original, read);
        Assert.Equal(original.Comments.ToArray(), read.Comments.ToArray());
        Assert.Equal(original.PeriodType, read.PeriodType);
        Assert.Equal((original.Period, original.TimeNanos, original.DurationNanos), (read.Period, read.TimeNanos, read.DurationNanos));
        Assert.Equal(original.DefaultSampleType, read.DefaultSampleType);
        for (int type = 0; type < original.SampleTypes.Length; type++)
        {
            string index = type.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(FoldedStacks.Lines(Stacks.Tree(original, index)), FoldedStacks.Lines(Stacks.Tree(read, index)));
        }
    });

    private static void AssertSame(Profile expected, Profile actual)
    {
        Assert.Equal(expected.SampleTypes.ToArray(), actual.SampleTypes.ToArray());
        Assert.Equal(expected.Mappings.ToArray(), actual.Mappings.ToArray());
        Assert.Equal(expected.Functions.ToArray().Select(f => f with { Id = 0 }), actual.Functions.ToArray().Select(f => f with { Id = 0 }));
        Assert.Equal(expected.SampleCount, actual.SampleCount);
        Assert.Equal(Describe(expected), Describe(actual));
    }

    /// <summary>Each sample as <c>values | labels | frames leaf first (function:line, inlined ones first)</c>.</summary>
    private static string[] Describe(Profile profile)
    {
        var samples = new string[profile.SampleCount];
        for (int s = 0; s < profile.SampleCount; s++)
        {
            Sample sample = profile.GetSample(s);
            var frames = new List<string>();
            foreach (int index in sample.LocationIndexes)
            {
                Location location = profile.Locations[index];
                if (location.LineCount == 0)
                {
                    frames.Add("[" + Path.GetFileName(profile.Mappings[location.MappingIndex].FileName) + "]");
                }

                foreach (Line line in profile.Lines.Slice(location.FirstLine, location.LineCount))
                {
                    frames.Add(string.Create(CultureInfo.InvariantCulture, $"{profile.Functions[line.FunctionIndex].Name}:{line.LineNumber}"));
                }
            }

            var labels = new List<string>();
            foreach (Label label in sample.Labels)
            {
                labels.Add(label.ToString());
            }

            samples[s] = string.Join(",", sample.Values.ToArray()) + " | " + string.Join(" ", labels) + " | " + string.Join(" ", frames);
        }

        return samples;
    }
}
