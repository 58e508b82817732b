using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests;

/// <summary>
/// For every real Go profile in testdata/ and every one of its sample types, our numbers equal what
/// <c>go tool pprof</c> printed for the same bytes (the oracle files next to the profiles).
/// </summary>
public sealed class GoToolPprofAgreementTests
{
    public static TheoryData<string, int> Cases => ProfileCases.EverySampleTypeOfEveryProfile();

    [Fact(Timeout = Spec.Timeout)]
    public Task Testdata_has_every_kind_of_Go_profile_with_its_oracles() => Spec.Run(() =>
    {
        string[] names = TestData.AllProfiles().Select(p => p.Name).ToArray();
        Assert.Superset(
            new HashSet<string> { "cpu", "heap", "allocs", "block", "mutex", "goroutine", "threadcreate", "block-empty", "diff" },
            names.ToHashSet());
        Assert.All(TestData.AllProfiles(), p => Assert.True(p.SampleTypes > 0, p.Name + " has no oracle files"));
        Assert.True(Cases.Count >= 25, $"only {Cases.Count} profile/sample-type cases");
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task The_total_and_every_functions_flat_and_cum_equal_go_tool_pprof_top(string profile, int sampleIndex) => Spec.Run(() =>
    {
        PprofOracle.Top expected = PprofOracle.ReadTop(profile, sampleIndex);
        TopTable actual = TopTable.Build(ProfileReader.ReadFile(TestData.Profile(profile)), new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        TopAgreement.Holds(expected, actual);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task At_line_granularity_every_lines_name_flat_and_cum_equal_go_tool_pprof_lines_top(string profile, int sampleIndex) => Spec.Run(() =>
    {
        PprofOracle.Top expected = PprofOracle.ReadTopFile(Path.Combine(TestData.Profiles, $"{profile}.{sampleIndex}.lines.txt"));
        TopTable actual = TopTable.Build(ProfileReader.ReadFile(TestData.Profile(profile)),
            new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), Granularity = FrameGranularity.Line });

        TopAgreement.Holds(expected, actual);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Our_folded_stacks_equal_go_tool_pprof_traces_folded_root_first(string profile, int sampleIndex) => Spec.Run(() =>
    {
        IReadOnlyList<string> expected = PprofOracle.ReadTracesFolded(profile, sampleIndex);
        FlameTree tree = FlameTreeBuilder.Build(
            ProfileReader.ReadFile(TestData.Profile(profile)),
            new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(expected, FoldedStacks.Lines(tree));
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Our_stack_groups_equal_go_tool_pprof_traces_summed_per_stack_and_labels(string profile, int sampleIndex) => Spec.Run(() =>
    {
        IReadOnlyList<string> expected = PprofOracle.ReadTraceGroups(profile, sampleIndex);
        StackGroups groups = StackGroups.Build(
            [ProfileReader.ReadFile(TestData.Profile(profile))],
            new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(expected, groups.Groups
            .Select(g => $"{g.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)} | {string.Join(", ", g.Labels.Select(l => l.Key + ":  " + l.Value).Order(StringComparer.Ordinal))} | {string.Join(';', g.Frames)}")
            .Order(StringComparer.Ordinal));
        Assert.Equal(groups.Groups.Count, groups.GroupCount);
        Assert.Equal(groups.Groups.Sum(g => g.Value), groups.Total);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Our_label_totals_equal_go_tool_pprof_tags(string profile, int sampleIndex) => Spec.Run(() =>
    {
        // pprof lists a value also when its samples are worth nothing in this sample type (memory since freed, in an
        // in-use view); we leave those out, as the graph does.
        PprofOracle.TagKey[] expected = [.. PprofOracle.ReadTags(profile, sampleIndex)
            .Select(k => k with { Values = [.. k.Values.Where(v => v.Total != 0)] })
            .Where(k => k.Values.Count > 0)];
        LabelTable labels = LabelTable.Build(
            [ProfileReader.ReadFile(TestData.Profile(profile))],
            new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(expected.Select(k => k.Key).Order(StringComparer.Ordinal), labels.Keys.Select(k => k.Key));
        foreach (PprofOracle.TagKey key in expected)
        {
            LabelKeyTotal ours = labels.Keys.Single(k => k.Key == key.Key);
            Assert.Equal(key.Total, ours.Total);
            // A number label prints in the oracle's -unit ("663552B") and here as pprof prints it elsewhere ("648kB"):
            // its values are compared by their totals.
            bool numbers = key.Values.All(v => System.Text.RegularExpressions.Regex.IsMatch(v.Value, "^-?[0-9]+(ns|B)?$"));
            Assert.Equal(
                key.Values.Select(v => (numbers ? "" : v.Value, v.Total)).Order(),
                ours.Values.Select(v => (numbers ? "" : v.Value, v.Total)).Order());
        }
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task The_flame_tree_root_total_is_the_sum_of_the_sample_values(string profile, int sampleIndex) => Spec.Run(() =>
    {
        Profile decoded = ProfileReader.ReadFile(TestData.Profile(profile));
        FlameTree tree = FlameTreeBuilder.Build(decoded, new FlameOptions { SampleType = sampleIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(decoded.Total(sampleIndex), tree.Total);
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_default_sample_type_is_the_one_go_tool_pprof_picks() => Spec.Run(() =>
    {
        string Default(string name)
        {
            Profile p = ProfileReader.ReadFile(TestData.Profile(name));
            return p.SampleTypes[p.DefaultSampleTypeIndex].Type;
        }

        Assert.Equal("cpu", Default("cpu"));
        Assert.Equal("inuse_space", Default("heap"));
        Assert.Equal("alloc_space", Default("allocs"));
        Assert.Equal("delay", Default("block"));
        Assert.Equal("delay", Default("mutex"));
        Assert.Equal("goroutine", Default("goroutine"));
        Assert.Equal("threadcreate", Default("threadcreate"));
    });
}
