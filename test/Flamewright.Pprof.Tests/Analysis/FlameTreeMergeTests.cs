using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// <see cref="FlameTreeMerge"/>: the merge of per-profile trees is, node for node, the tree built from all the profiles
/// at once, whatever the options, so that a server may merge the cached tree of each upload.
/// </summary>
public sealed class FlameTreeMergeTests
{
    public static TheoryData<string, int> SampleTypes => TestData.EverySampleTypeOfEveryProfile();

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task Merging_each_profiles_tree_gives_the_tree_of_all_of_them_at_both_granularities(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));
        // Another profile of the same kind, so that the two share some stacks and not others.
        Profile other = ProfileReader.ReadFile(TestData.Profile(name.StartsWith("heap", StringComparison.Ordinal) || name is "allocs" or "diff" ? "heap-b" : name));

        foreach (FrameGranularity granularity in new[] { FrameGranularity.Function, FrameGranularity.Line })
        {
            var options = new FlameOptions { SampleType = sampleType.ToString(CultureInfo.InvariantCulture), Granularity = granularity };

            FlameTree merged = FlameTreeMerge.Merge([FlameTreeBuilder.Build(profile, options), FlameTreeBuilder.Build(other, options), FlameTreeBuilder.Build(profile, options)]);

            TreeInvariants.Same(FlameTreeBuilder.Build([profile, other, profile], options), merged);
            TreeInvariants.Hold(merged);
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Filters_and_a_label_split_merge_as_they_build() => Spec.Run(() =>
    {
        Profile cpu = ProfileReader.ReadFile(TestData.Profile("cpu"));
        var options = new FlameOptions { SampleType = "cpu", Focus = @"main\.", Ignore = @"main\.mix", TagSplit = "tenant", TagIgnore = "job=deep" };

        FlameTree merged = FlameTreeMerge.Merge([FlameTreeBuilder.Build(cpu, options), FlameTreeBuilder.Build(cpu, options)]);

        TreeInvariants.Same(FlameTreeBuilder.Build([cpu, cpu], options), merged);
        Assert.True(merged.Total > 0);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_merge_past_the_node_limit_is_refused_and_trees_of_different_kinds_do_not_merge() => Spec.Run(() =>
    {
        Profile cpu = ProfileReader.ReadFile(TestData.Profile("cpu"));
        FlameTree byFunction = FlameTreeBuilder.Build(cpu, new FlameOptions { SampleType = "cpu" });
        FlameTree byLine = FlameTreeBuilder.Build(cpu, new FlameOptions { SampleType = "cpu", Granularity = FrameGranularity.Line });

        var limit = Assert.Throws<PprofFormatException>(() => FlameTreeMerge.Merge([byFunction, byFunction], maxNodes: 10));

        Assert.Equal("the flame tree would have more than 10 nodes (MaxNodes)", limit.Message);
        Assert.Throws<ArgumentException>(() => FlameTreeMerge.Merge([byFunction, byLine]));
        Assert.Same(byFunction, FlameTreeMerge.Merge([byFunction]));
    });
}
