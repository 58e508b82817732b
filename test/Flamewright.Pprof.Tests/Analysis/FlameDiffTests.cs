using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>Diffs of two selections: hand-built ones worked out by hand, and real Go profiles against their trees.</summary>
public sealed class FlameDiffTests
{
    private static Profile Real(string name) => ProfileReader.ReadFile(TestData.Profile(name));

    /// <summary>Every node as <c>indent name baseTotal/baseSelf targetTotal/targetSelf</c>, in node order.</summary>
    private static string[] Render(FlameDiff diff) => Enumerable.Range(0, diff.Count)
        .Select(n => string.Create(CultureInfo.InvariantCulture,
            $"{new string(' ', 2 * diff.DepthOf(n))}{diff.NameOf(n)} {diff.BaseTotalOf(n)}/{diff.BaseSelfOf(n)} {diff.TargetTotalOf(n)}/{diff.TargetSelfOf(n)}"))
        .ToArray();

    private static string PathKey(string[] path) => string.Join(';', path);

    /// <summary>On each side total = self + Σ children; pre-order; siblings sorted and distinct; subtree ends.</summary>
    private static void InvariantsHold(FlameDiff diff)
    {
        Assert.Equal("root", diff.NameOf(0));
        Assert.Equal(-1, diff.ParentOf(0));
        Assert.Equal(diff.Count, diff.SubtreeEnd(0));
        for (int node = 0; node < diff.Count; node++)
        {
            var children = new List<int>();
            for (int child = node + 1; child < diff.SubtreeEnd(node); child = diff.SubtreeEnd(child))
            {
                children.Add(child);
            }

            Assert.Equal(diff.BaseTotalOf(node), diff.BaseSelfOf(node) + children.Sum(diff.BaseTotalOf));
            Assert.Equal(diff.TargetTotalOf(node), diff.TargetSelfOf(node) + children.Sum(diff.TargetTotalOf));
            for (int c = 0; c < children.Count; c++)
            {
                Assert.Equal(node, diff.ParentOf(children[c]));
                Assert.Equal(diff.DepthOf(node) + 1, diff.DepthOf(children[c]));
                Assert.True(c == 0 || string.CompareOrdinal(diff.NameOf(children[c - 1]), diff.NameOf(children[c])) < 0, "siblings are sorted and distinct");
            }
        }
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task The_diff_has_the_union_of_both_sides_paths_with_zero_where_a_side_lacks_one() => Spec.Run(() =>
    {
        Profile before = Stacks.Single(Stacks.Cpu).Add("main;a", 10).Add("main;b", 4).Add("main", 1).Build();
        Profile after = Stacks.Single(Stacks.Cpu).Add("main;b", 6).Add("main;c;d", 3).Add("gc", 2).Build();

        FlameDiff diff = FlameDiff.Build([before], [after]);

        Assert.Equal(
        [
            "root 15/0 11/0", "  gc 0/0 2/2", "  main 15/1 9/0", "    a 10/10 0/0", "    b 4/4 6/6", "    c 0/0 3/0", "      d 0/0 3/3",
        ], Render(diff));
        Assert.Equal(15, diff.BaseTotal);
        Assert.Equal(11, diff.TargetTotal);
        Assert.Equal(["main", "c", "d"], diff.PathOf(6));
        Assert.Equal(Stacks.Cpu, diff.SampleType);
        InvariantsHold(diff);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_diff_of_a_real_profile_with_itself_is_its_tree_with_equal_base_and_target_everywhere() => Spec.Run(() =>
    {
        Profile cpu = Real("cpu");
        FlameTree tree = FlameTreeBuilder.Build(cpu);

        FlameDiff diff = FlameDiff.Build([cpu], [cpu]);

        Assert.Equal(tree.Count, diff.Count);
        for (int node = 0; node < diff.Count; node++)
        {
            Assert.Equal(tree.NameOf(node), diff.NameOf(node));
            Assert.Equal(tree.ParentOf(node), diff.ParentOf(node));
            Assert.Equal(tree.SubtreeEnd(node), diff.SubtreeEnd(node));
            Assert.Equal((tree.TotalOf(node), tree.SelfOf(node)), (diff.BaseTotalOf(node), diff.BaseSelfOf(node)));
            Assert.Equal((diff.BaseTotalOf(node), diff.BaseSelfOf(node)), (diff.TargetTotalOf(node), diff.TargetSelfOf(node)));
        }

        InvariantsHold(diff);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Against_a_profile_merged_with_itself_every_target_value_is_twice_the_base() => Spec.Run(() =>
    {
        Profile heap = Real("heap");
        var options = new FlameOptions { SampleType = "alloc_space" };

        FlameDiff merged = FlameDiff.Build([heap], [ProfileMerger.Merge([heap, heap])], options);
        FlameDiff twice = FlameDiff.Build([heap], [heap, heap], options);

        Assert.True(merged.BaseTotal > 0);
        foreach (FlameDiff diff in new[] { merged, twice })
        {
            Assert.Equal(FlameTreeBuilder.Build(heap, options).Count, diff.Count);
            for (int node = 0; node < diff.Count; node++)
            {
                Assert.Equal(2 * diff.BaseTotalOf(node), diff.TargetTotalOf(node));
                Assert.Equal(2 * diff.BaseSelfOf(node), diff.TargetSelfOf(node));
            }
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_paths_of_a_real_diff_are_the_union_of_both_trees_paths_each_with_its_sides_values() => Spec.Run(() =>
    {
        Profile before = Real("heap-a"), after = Real("heap-b");
        var options = new FlameOptions { SampleType = "inuse_space" };
        FlameTree baseTree = FlameTreeBuilder.Build(before, options);
        FlameTree targetTree = FlameTreeBuilder.Build(after, options);

        FlameDiff diff = FlameDiff.Build([before], [after], options);

        static Dictionary<string, (long Total, long Self)> Paths(FlameTree tree) => Enumerable.Range(0, tree.Count)
            .ToDictionary(n => PathKey(tree.PathOf(n)), n => (tree.TotalOf(n), tree.SelfOf(n)), StringComparer.Ordinal);
        Dictionary<string, (long Total, long Self)> basePaths = Paths(baseTree), targetPaths = Paths(targetTree);
        string[] diffPaths = Enumerable.Range(0, diff.Count).Select(n => PathKey(diff.PathOf(n))).ToArray();
        Assert.Equal(basePaths.Keys.Union(targetPaths.Keys).Order(StringComparer.Ordinal), diffPaths.Order(StringComparer.Ordinal));
        Assert.NotEqual(basePaths.Count, diffPaths.Length); // the target has paths the base lacks, and the other way
        Assert.NotEqual(targetPaths.Count, diffPaths.Length);
        for (int node = 0; node < diff.Count; node++)
        {
            Assert.Equal(basePaths.GetValueOrDefault(diffPaths[node]), (diff.BaseTotalOf(node), diff.BaseSelfOf(node)));
            Assert.Equal(targetPaths.GetValueOrDefault(diffPaths[node]), (diff.TargetTotalOf(node), diff.TargetSelfOf(node)));
        }

        Assert.Equal(before.Total(3), diff.BaseTotal);
        Assert.Equal(after.Total(3), diff.TargetTotal);
        InvariantsHold(diff);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_cpu_profile_against_a_heap_profile_is_refused_naming_the_target() => Spec.Run(() =>
    {
        Profile cpu = Real("cpu"), heap = Real("heap");

        var refused = Assert.Throws<PprofFormatException>(() => FlameDiff.Build([cpu], [heap]));
        var inBase = Assert.Throws<PprofFormatException>(() => FlameDiff.Build([cpu, heap], [cpu]));
        var inTarget = Assert.Throws<PprofFormatException>(() => FlameDiff.Build([cpu], [cpu, heap]));

        Assert.Equal(
            "target profile 1 cannot be compared with the base: its sample types "
            + "[alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes] differ from [samples/count, cpu/nanoseconds]",
            refused.Message);
        Assert.StartsWith("profile 2 cannot be merged: ", inBase.Message);
        Assert.StartsWith("target profile 2 cannot be compared with the base: ", inTarget.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Both_sides_are_weighed_by_the_base_sample_type_even_where_the_targets_default_differs() => Spec.Run(() =>
    {
        // heap's default is inuse_space, allocs' is alloc_space (default_sample_type): the diff takes the base's.
        Profile heap = Real("heap"), allocs = Real("allocs");

        FlameDiff diff = FlameDiff.Build([heap], [allocs]);
        FlameDiff byIndex = FlameDiff.Build([allocs], [heap], new FlameOptions { SampleType = "0" });

        Assert.Equal(Stacks.InuseSpace, diff.SampleType);
        Assert.Equal(heap.Total(3), diff.BaseTotal);
        Assert.Equal(allocs.Total(3), diff.TargetTotal);
        Assert.Equal(allocs.Total(0), byIndex.BaseTotal);
        Assert.Equal(heap.Total(0), byIndex.TargetTotal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Focus_ignore_and_granularity_apply_to_both_sides() => Spec.Run(() =>
    {
        ProfileBuilder Builder() => Stacks.Single(Stacks.Cpu);
        int Leaf(ProfileBuilder b, long line) => b.Location(("leaf", line));
        ProfileBuilder before = Builder(), after = Builder();
        before.AddSample([Leaf(before, 1), before.Location(("main", 5))], [4]);
        before.Add("main;gc", 9);
        after.AddSample([Leaf(after, 2), after.Location(("main", 5))], [6]);
        after.Add("main;gc", 1);

        FlameDiff diff = FlameDiff.Build(
            [before.Build()], [after.Build()], new FlameOptions { Ignore = "^gc$", Granularity = FrameGranularity.Line });

        Assert.Equal(["root 4/0 6/0", "  main:5 4/0 6/0", "    leaf:1 4/4 0/0", "    leaf:2 0/0 6/6"], Render(diff));
        Assert.Equal(FrameGranularity.Line, diff.Granularity);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_5000_frame_deep_diff_builds_without_stack_overflow() => Spec.Run(() =>
    {
        const int Depth = 5000;
        string deep = string.Join(';', Enumerable.Range(0, Depth).Select(i => "f" + i.ToString(CultureInfo.InvariantCulture)));
        Profile before = Stacks.Single(Stacks.Samples).Add(deep, 3).Build();
        Profile after = Stacks.Single(Stacks.Samples).Add(deep + ";g", 5).Build();

        FlameDiff diff = FlameDiff.Build([before], [after]);

        Assert.Equal(Depth + 2, diff.Count);
        Assert.Equal((3L, 3L, 5L, 0L), (diff.BaseTotalOf(Depth), diff.BaseSelfOf(Depth), diff.TargetTotalOf(Depth), diff.TargetSelfOf(Depth)));
        Assert.Equal(Depth + 1, diff.DepthOf(Depth + 1));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_union_of_both_trees_is_held_to_MaxNodes_and_empty_selections_are_refused() => Spec.Run(() =>
    {
        Profile before = Stacks.Single(Stacks.Cpu).Add("main;a", 1).Build();
        Profile after = Stacks.Single(Stacks.Cpu).Add("main;b", 1).Build();

        // Each tree has 3 nodes; their union has 4.
        Assert.Equal(4, FlameDiff.Build([before], [after], new FlameOptions { MaxNodes = 4 }).Count);
        Assert.Equal(
            "the flame diff would have more than 3 nodes (MaxNodes)",
            Assert.Throws<PprofFormatException>(() => FlameDiff.Build([before], [after], new FlameOptions { MaxNodes = 3 })).Message);
        Assert.Throws<ArgumentException>(() => FlameDiff.Build([], [after]));
        Assert.Throws<ArgumentException>(() => FlameDiff.Build([before], []));
    });
}
