using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;
using Ref = Flamewright.Pprof.Tests.Reference;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// Our hand-written decoder and writer agree field by field with the parser protoc generates from the official
/// profile.proto, on every real Go profile in testdata/.
/// </summary>
public sealed class ReferenceParserAgreementTests
{
    public static TheoryData<string> Profiles => ProfileCases.EveryProfile();

    private static (Ref.Profile Reference, Profile Ours) Both(string profile)
    {
        byte[] plain = TestData.Plain(profile);
        return (Ref.Profile.Parser.ParseFrom(plain), ProfileReader.Read(plain));
    }

    private static string S(Ref.Profile reference, long index) => reference.StringTable[checked((int)index)];

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task The_string_table_and_profile_level_fields_agree(string profile) => Spec.Run(() =>
    {
        (Ref.Profile r, Profile ours) = Both(profile);

        Assert.Equal(r.StringTable, ours.StringTable.ToArray());
        Assert.Equal(r.SampleType.Select(t => new Model.ValueType(S(r, t.Type), S(r, t.Unit))), ours.SampleTypes.ToArray());
        Assert.Equal(r.PeriodType is null ? null : new Model.ValueType(S(r, r.PeriodType.Type), S(r, r.PeriodType.Unit)), ours.PeriodType);
        Assert.Equal(r.Period, ours.Period);
        Assert.Equal(r.TimeNanos, ours.TimeNanos);
        Assert.Equal(r.DurationNanos, ours.DurationNanos);
        Assert.Equal(S(r, r.DropFrames), ours.DropFrames);
        Assert.Equal(S(r, r.KeepFrames), ours.KeepFrames);
        Assert.Equal(r.Comment.Select(c => S(r, c)), ours.Comments.ToArray());
        Assert.Equal(S(r, r.DefaultSampleType), ours.DefaultSampleType);
        Assert.Equal(S(r, r.DocUrl), ours.DocUrl);
        Assert.True(r.SampleType.Count > 0 && r.TimeNanos > 0, "a real Go profile has sample types and a time");
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task Every_mapping_function_location_and_line_agrees(string profile) => Spec.Run(() =>
    {
        (Ref.Profile r, Profile ours) = Both(profile);

        Assert.Equal(
            r.Mapping.Select(m => new Mapping(
                m.Id, m.MemoryStart, m.MemoryLimit, m.FileOffset, S(r, m.Filename), S(r, m.BuildId),
                m.HasFunctions, m.HasFilenames, m.HasLineNumbers, m.HasInlineFrames)),
            ours.Mappings.ToArray());
        Assert.Equal(
            r.Function.Select(f => new Function(f.Id, S(r, f.Name), S(r, f.SystemName), S(r, f.Filename), f.StartLine)),
            ours.Functions.ToArray());

        Assert.Equal(r.Location.Count, ours.Locations.Length);
        int lineCount = 0;
        for (int i = 0; i < r.Location.Count; i++)
        {
            Ref.Location expected = r.Location[i];
            Location actual = ours.Locations[i];
            Assert.Equal(expected.Id, actual.Id);
            Assert.Equal(expected.MappingId, actual.HasMapping ? ours.Mappings[actual.MappingIndex].Id : 0);
            Assert.Equal(expected.Address, actual.Address);
            Assert.Equal(expected.IsFolded, actual.IsFolded);
            Assert.Equal(
                expected.Line.Select(l => (l.FunctionId, l.Line_, l.Column)),
                ours.Lines.Slice(actual.FirstLine, actual.LineCount).ToArray()
                    .Select(l => (l.FunctionIndex < 0 ? 0 : ours.Functions[l.FunctionIndex].Id, l.LineNumber, l.Column)));
            lineCount += expected.Line.Count;
        }

        Assert.Equal(lineCount, ours.Lines.Length);
        Assert.NotEmpty(r.Mapping);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task Every_samples_location_ids_values_and_labels_agree(string profile) => Spec.Run(() =>
    {
        (Ref.Profile r, Profile ours) = Both(profile);

        Assert.Equal(r.Sample.Count, ours.SampleCount);
        Assert.Equal(r.Sample.Select(s => string.Join(",", s.LocationId)).Distinct().Count(), ours.StackCount);
        for (int i = 0; i < r.Sample.Count; i++)
        {
            Ref.Sample expected = r.Sample[i];
            Sample actual = ours.GetSample(i);
            Assert.Equal(expected.LocationId, actual.LocationIndexes.ToArray().Select(l => ours.Locations[l].Id));
            Assert.Equal(expected.Value, actual.Values.ToArray());
            Assert.Equal(
                expected.Label.Select(l => new Label(
                    S(r, l.Key), l.Str == 0 ? null : S(r, l.Str), l.Num, l.NumUnit == 0 ? null : S(r, l.NumUnit))),
                actual.Labels.ToArray());
        }

        for (int t = 0; t < r.SampleType.Count; t++)
        {
            Assert.Equal(r.Sample.Sum(s => s.Value[t]), ours.Total(t));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_profiles_cover_labels_inlining_and_empty_stacks() => Spec.Run(() =>
    {
        // What the agreement above is worth depends on what the profiles contain.
        Ref.Profile cpu = Both("cpu").Reference;
        Assert.Contains(cpu.Sample, s => s.Label.Any(l => l.Str != 0));
        Assert.Contains(cpu.Location, l => l.Line.Count > 1);
        Assert.Contains(Both("heap").Reference.Sample, s => s.Label.Any(l => l.Str == 0 && l.Num != 0));
        Assert.Contains(Both("threadcreate").Reference.Sample, s => s.LocationId.Count == 0);
        Assert.Contains(Both("diff").Reference.Sample, s => s.Value.Any(v => v < 0));
        Assert.Empty(Both("block-empty").Reference.Sample);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task Our_writers_output_parsed_by_the_generated_parser_has_the_same_content(string profile) => Spec.Run(() =>
    {
        (Ref.Profile r, Profile ours) = Both(profile);

        byte[] written = ProfileWriter.Encode(ours);
        Ref.Profile reparsed = Ref.Profile.Parser.ParseFrom(written);

        Assert.Equal(ProfileContent.Of(r), ProfileContent.Of(reparsed));
        Assert.Equal(ProfileContent.Of(r), ProfileContent.Of(ProfileReader.Read(written)));
        Assert.Equal("", reparsed.StringTable[0]);
        Assert.Equal(reparsed.StringTable.Count, reparsed.StringTable.Distinct(StringComparer.Ordinal).Count());

        // Ids are renumbered 1..N and every reference resolves.
        Assert.Equal(Enumerable.Range(1, reparsed.Location.Count).Select(i => (ulong)i), reparsed.Location.Select(l => l.Id));
        Assert.Equal(Enumerable.Range(1, reparsed.Function.Count).Select(i => (ulong)i), reparsed.Function.Select(f => f.Id));
        Assert.Equal(Enumerable.Range(1, reparsed.Mapping.Count).Select(i => (ulong)i), reparsed.Mapping.Select(m => m.Id));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task Our_gzip_output_is_what_the_generated_parser_reads_after_any_gunzip(string profile) => Spec.Run(() =>
    {
        Profile ours = ProfileReader.ReadFile(TestData.Profile(profile));
        using var gzip = new MemoryStream();
        ProfileWriter.Write(ours, gzip);

        Ref.Profile reparsed = Ref.Profile.Parser.ParseFrom(Wire.Gunzip(gzip.ToArray()));

        Assert.Equal(ProfileContent.Of(Both(profile).Reference), ProfileContent.Of(reparsed));
    });
}
