using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// A first look made from the stacks, without the tree, draws what the tree's view draws (the same frames, values,
/// narrower blocks and minimum) and has the tree's top table: for every testdata profile and sample type, both
/// granularities, several widths, merged profiles, focus and ignore, and stacks deeper than the frames it reads first.
/// Only the frames' ids differ: its own, numbered in order.
/// </summary>
public sealed class StackViewTests
{
    public static TheoryData<string, int> SampleTypes => ProfileCases.EverySampleTypeOfEveryProfile();

    public static TheoryData<string> FilteredOracles => ProfileCases.EveryFilteredOracle();

    private static readonly int[] Widths = [1, 7, 100, 1400, 4096];

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task The_first_look_from_the_stacks_equals_the_trees_view_and_table_at_every_width_and_both_granularities(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));

        foreach (FrameGranularity granularity in new[] { FrameGranularity.Function, FrameGranularity.Line })
        {
            var options = new FlameOptions { SampleType = sampleType.ToString(CultureInfo.InvariantCulture), Granularity = granularity };
            AssertSameAsTheTree([profile], options);
        }
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(FilteredOracles))]
    public Task With_focus_and_ignore_the_first_look_from_the_stacks_equals_the_trees(string oracle) => Spec.Run(() =>
    {
        string[] parts = oracle.Split('.');
        PprofOracle.Top expected = PprofOracle.ReadTopFile(Path.Combine(TestData.FilteredOracles, oracle));
        string? Pattern(string option) =>
            expected.ActiveFilters.SingleOrDefault(f => f.StartsWith(option + "=", StringComparison.Ordinal))?[(option.Length + 1)..];
        var options = new FlameOptions { SampleType = parts[1], Focus = Pattern("focus"), Ignore = Pattern("ignore") };

        AssertSameAsTheTree([ProfileReader.ReadFile(TestData.Profile(parts[0]))], options);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Merged_profiles_give_the_same_first_look_from_their_stacks() => Spec.Run(() =>
    {
        Profile[] profiles = [.. new[] { "heap", "heap-a" }.Select(n => ProfileReader.ReadFile(TestData.Profile(n)))];

        AssertSameAsTheTree(profiles, FlameOptions.Default);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Stacks_deeper_than_the_frames_read_first_are_followed_to_their_leaves() => Spec.Run(() =>
    {
        // A 200-frame recursion under main that ends in three leaves of different weights, beside a shallow stack:
        // the cut reads the deep stacks again, in ever deeper windows, and still finds every drawn frame.
        string chain = "main;" + string.Join(';', Enumerable.Repeat("recurse", 200));
        Profile profile = Stacks.Single(Stacks.Samples)
            .Add(chain + ";leafA", 500)
            .Add(chain + ";leafB", 300)
            .Add(chain + ";leafC", 1)
            .Add("main;shallow", 200)
            .Build();

        FirstLook look = AssertSameAsTheTree([profile], FlameOptions.Default);

        Assert.Equal(202, look.View.Frames.Max(f => f.Depth)); // main at 1, the recursion at 2 to 201, the leaves at 202
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Its_frames_are_numbered_in_order_from_the_root() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));

        FirstLook look = StackView.Build([profile], FlameOptions.Default, 1400);

        Assert.Equal(Enumerable.Range(0, look.View.Frames.Count), look.View.Frames.Select(f => f.Node));
        Assert.All(look.View.Frames.Skip(1), f => Assert.InRange(f.Parent, 0, f.Node - 1));
        Assert.Equal([new ViewAncestor(0, FlameTree.RootName, look.View.TreeTotal)], look.View.Ancestors);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(SampleTypes))]
    public Task A_first_look_from_a_digest_read_for_its_stacks_equals_the_one_from_the_profile(string name, int sampleType) => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile(name));
        DigestStacks digest = ProfileDigest.ReadStacks(ProfileDigest.Write(profile));

        foreach (FrameGranularity granularity in new[] { FrameGranularity.Function, FrameGranularity.Line })
        {
            var options = new FlameOptions { SampleType = sampleType.ToString(CultureInfo.InvariantCulture), Granularity = granularity };
            foreach (int width in Widths)
            {
                AssertSame(StackView.Build([profile], options, width), StackView.Build([new StackInput(digest)], options, width));
            }
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Digests_and_profiles_merge_into_one_first_look() => Spec.Run(() =>
    {
        Profile heap = ProfileReader.ReadFile(TestData.Profile("heap"));
        Profile other = ProfileReader.ReadFile(TestData.Profile("heap-a"));
        StackInput[] mixed = [new(ProfileDigest.ReadStacks(ProfileDigest.Write(heap))), new(other)];

        foreach (int width in Widths)
        {
            AssertSame(StackView.Build([heap, other], FlameOptions.Default, width), StackView.Build(mixed, FlameOptions.Default, width));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_digests_stacks_deeper_than_the_frames_read_first_are_streamed_again_to_their_leaves() => Spec.Run(() =>
    {
        string chain = "main;" + string.Join(';', Enumerable.Repeat("recurse", 200));
        Profile profile = Stacks.Single(Stacks.Samples).Add(chain + ";leafA", 500).Add(chain + ";leafB", 300).Add("main;shallow", 200).Build();

        FirstLook fromDigest = StackView.Build([new StackInput(ProfileDigest.ReadStacks(ProfileDigest.Write(profile)))], FlameOptions.Default, 1400);

        AssertSame(StackView.Build([profile], FlameOptions.Default, 1400), fromDigest);
        Assert.Equal(202, fromDigest.View.Frames.Max(f => f.Depth));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_digest_read_for_its_stacks_is_refused_with_a_filter_since_it_kept_no_samples() => Spec.Run(() =>
    {
        DigestStacks digest = ProfileDigest.ReadStacks(ProfileDigest.Write(ProfileReader.ReadFile(TestData.Profile("cpu"))));

        var refused = Assert.Throws<ArgumentException>(() => StackView.Build([new StackInput(digest)], new FlameOptions { Focus = "main" }, 1400));

        Assert.StartsWith("a digest read for stacks has no samples to filter", refused.Message, StringComparison.Ordinal);
    });

    private static void AssertSame(FirstLook expected, FirstLook actual)
    {
        Assert.Equal(expected.View.Frames, actual.View.Frames);
        Assert.Equal(expected.View.Narrower, actual.View.Narrower);
        Assert.Equal((expected.View.TreeTotal, expected.View.MinimumTotal), (actual.View.TreeTotal, actual.View.MinimumTotal));
        Assert.Equal((expected.Top.SampleType, expected.Top.Total, expected.Top.AbsoluteTotal), (actual.Top.SampleType, actual.Top.Total, actual.Top.AbsoluteTotal));
        Assert.Equal(expected.Top.Entries, actual.Top.Entries);
    }

    /// <summary>Compares the first look from the stacks with the tree's view and table at every width; returns the widest.</summary>
    private static FirstLook AssertSameAsTheTree(IReadOnlyList<Profile> profiles, FlameOptions options)
    {
        FlameTree tree = FlameTreeBuilder.Build(profiles, options);
        TopTable top = TopTable.Build(tree);
        FirstLook? look = null;
        foreach (int width in Widths)
        {
            look = StackView.Build(profiles, options, width);
            FlameView expected = FlameView.Build(tree, [], width);

            Assert.Equal(expected.Frames.Select(f => f with { Node = 0 }), look.View.Frames.Select(f => f with { Node = 0 }));
            Assert.Equal(expected.Narrower, look.View.Narrower);
            Assert.Equal(
                (expected.TreeTotal, expected.Span, expected.MinimumTotal, expected.WidthPixels, expected.Root, expected.MatchedTotal),
                (look.View.TreeTotal, look.View.Span, look.View.MinimumTotal, look.View.WidthPixels, look.View.Root, look.View.MatchedTotal));
            Assert.Equal((top.SampleType, top.Total, top.AbsoluteTotal), (look.Top.SampleType, look.Top.Total, look.Top.AbsoluteTotal));
            Assert.Equal(top.Entries, look.Top.Entries);
            // Narrowing it answers a narrower graph as the tree would.
            Assert.Equal(
                FlameView.Build(tree, [], Math.Max(1, width / 3)).Frames.Select(f => f with { Node = 0 }),
                look.View.Narrowed(Math.Max(1, width / 3)).Frames.Select(f => f with { Node = 0 }));
        }

        return look!;
    }
}
