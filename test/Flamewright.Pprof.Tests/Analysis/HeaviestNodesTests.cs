using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>What of a large tree an answer with a limit on its elements shows: the heaviest nodes, joined to the root, values exact.</summary>
public sealed class HeaviestNodesTests
{
    private static readonly Profile s_profile = Stacks.CpuBuilder()
        .Add("main;a;x", 1, 50)
        .Add("main;a;y", 1, 20)
        .Add("main;b", 1, 25)
        .Add("main;c;z", 1, 4)
        .Add("other", 1, 1)
        .Build();

    [Fact(Timeout = Spec.Timeout)]
    public Task A_tree_within_the_limit_is_shown_whole_and_nothing_is_said_to_be_left_out() => Spec.Run(() =>
    {
        FlameTree tree = Stacks.Tree(s_profile);

        (IReadOnlyList<StackElement> elements, int omitted) = SkyWalkingTree.Elements(tree, tree.Count);

        Assert.Equal(0, omitted);
        Assert.Equal(SkyWalkingTree.Elements(tree), elements);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Past_the_limit_the_heaviest_nodes_are_kept_with_their_parents_renumbered_and_with_their_exact_values() => Spec.Run(() =>
    {
        FlameTree tree = Stacks.Tree(s_profile);

        (IReadOnlyList<StackElement> elements, int omitted) = SkyWalkingTree.Elements(tree, 5);

        // root 100, main 99, a 70, x 50, b 25: y (20), c (4), z (4) and other (1) are lighter than all five.
        Assert.Equal(
            ["0 -1 root 100/0", "1 0 main 99/0", "2 1 a 70/0", "3 2 x 50/50", "4 1 b 25/25"],
            elements.Select(e => $"{e.Id} {e.ParentId} {e.CodeSignature} {e.Total}/{e.Self}"));
        Assert.Equal(tree.Count - 5, omitted);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_heavy_node_under_a_lighter_parent_is_not_kept_without_it_and_the_limit_holds_through_ties() => Spec.Run(() =>
    {
        // Node 3 (weight 9) hangs under node 2 (weight 1): it cannot be shown alone. Nodes 4 to 7 tie at 5.
        int[] parents = [-1, 0, 0, 2, 0, 0, 0, 0];
        long[] weights = [10, 8, 1, 9, 5, 5, 5, 5];

        int[] kept = HeaviestNodes.Select(parents.Length, n => parents[n], n => weights[n], 4);

        Assert.Equal([0, 1, 4, 5], kept);
        Assert.Equal([-1, 0, 0, 0], HeaviestNodes.RenumberedParents(kept, n => parents[n]));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Negative_weights_count_by_their_magnitude_including_the_most_negative_long() => Spec.Run(() =>
    {
        int[] parents = [-1, 0, 0, 0];
        long[] weights = [0, -7, long.MinValue, 3];

        Assert.Equal([0, 1, 2], HeaviestNodes.Select(parents.Length, n => parents[n], n => weights[n], 3));
        Assert.Equal(long.MinValue, HeaviestNodes.Heavier(long.MaxValue, long.MinValue));
    });
}
