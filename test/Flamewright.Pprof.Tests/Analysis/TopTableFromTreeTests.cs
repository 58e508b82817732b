using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// The top table read off a flame tree equals the one built from the samples the tree was built from (and so equals
/// <c>go tool pprof -top</c>): for every testdata profile and sample type, at both granularities, merged, and with
/// every focus/ignore case; recursion counts a frame's cum once.
/// </summary>
public sealed class TopTableFromTreeTests
{
    public static TheoryData<string, int> SampleTypes => ProfileCases.EverySampleTypeOfEveryProfile();

    public static TheoryData<string> FilteredOracles => ProfileCases.EveryFilteredOracle();

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task The_table_from_the_tree_equals_the_table_from_the_samples_at_both_granularities(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));

        foreach (FrameGranularity granularity in new[] { FrameGranularity.Function, FrameGranularity.Line })
        {
            var options = new FlameOptions { SampleType = sampleType.ToString(CultureInfo.InvariantCulture), Granularity = granularity };
            AssertSame(TopTable.Build(profile, options), TopTable.Build(FlameTreeBuilder.Build(profile, options)));
        }
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(FilteredOracles))]
    public Task With_focus_and_ignore_the_table_from_the_tree_keeps_the_whole_profiles_total_as_pprof_does(string oracle) => Spec.Run(() =>
    {
        string[] parts = oracle.Split('.');
        PprofOracle.Top expected = PprofOracle.ReadTopFile(Path.Combine(TestData.FilteredOracles, oracle));
        string? Pattern(string option) =>
            expected.ActiveFilters.SingleOrDefault(f => f.StartsWith(option + "=", StringComparison.Ordinal))?[(option.Length + 1)..];
        var options = new FlameOptions { SampleType = parts[1], Focus = Pattern("focus"), Ignore = Pattern("ignore") };
        Profile profile = ProfileReader.ReadFile(TestData.Profile(parts[0]));

        TopTable fromTree = TopTable.Build(FlameTreeBuilder.Build(profile, options));

        AssertSame(TopTable.Build(profile, options), fromTree);
        Assert.Equal(expected.Total, fromTree.AbsoluteTotal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Merged_profiles_give_the_same_table_from_their_tree() => Spec.Run(() =>
    {
        Profile[] profiles = [.. new[] { "heap", "heap-a" }.Select(n => ProfileReader.ReadFile(TestData.Profile(n)))];

        AssertSame(TopTable.Build(profiles), TopTable.Build(FlameTreeBuilder.Build(profiles)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_recursive_frame_counts_its_cum_once_per_stack() => Spec.Run(() =>
    {
        // main → f → g → f (leaf, 5) and main → f (leaf, 2): f's cum is 7, not 12.
        var builder = new ProfileBuilder([new Model.ValueType("samples", "count")]);
        int main = builder.AddLocation([new Line(builder.AddFunction("main"), 1, 0)]);
        int f = builder.AddLocation([new Line(builder.AddFunction("f"), 1, 0)]);
        int g = builder.AddLocation([new Line(builder.AddFunction("g"), 1, 0)]);
        builder.AddSample([f, g, f, main], [5]);
        builder.AddSample([f, main], [2]);

        TopTable top = TopTable.Build(FlameTreeBuilder.Build(builder.Build()));

        Assert.Equal(new TopEntry("f", 7, 7), top.Entries.Single(e => e.Name == "f"));
        Assert.Equal(new TopEntry("g", 0, 5), top.Entries.Single(e => e.Name == "g"));
        Assert.Equal(new TopEntry("main", 0, 7), top.Entries.Single(e => e.Name == "main"));
    });

    private static void AssertSame(TopTable expected, TopTable actual)
    {
        Assert.Equal((expected.SampleType, expected.Total, expected.AbsoluteTotal), (actual.SampleType, actual.Total, actual.AbsoluteTotal));
        Assert.Equal(expected.Entries, actual.Entries);
    }
}
