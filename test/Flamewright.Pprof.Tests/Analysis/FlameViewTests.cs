using System.Text.RegularExpressions;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// A view draws the frames wide enough for its width and sums the rest per parent, exactly; zooming reveals every
/// frame; search marks frames and counts each sample once.
/// </summary>
public sealed class FlameViewTests
{
    public static TheoryData<string, int> ProfilesAndWidths() => new()
    {
        { "cpu", 1400 }, { "cpu", 50 }, { "heap", 1400 }, { "heap", 8 }, { "allocs", 300 },
    };

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(ProfilesAndWidths))]
    public Task Each_drawn_frame_is_its_self_plus_its_drawn_children_plus_its_narrower_block(string name, int width) => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.Read(TestData.Bytes(name)));

        FlameView view = FlameView.Build(tree, [], width);

        var childTotals = new long[view.Frames.Count];
        for (int i = 1; i < view.Frames.Count; i++)
        {
            childTotals[view.Frames[i].Parent] += view.Frames[i].Total;
            Assert.True(Math.Abs(view.Frames[i].Total) * (long)width >= Math.Abs(tree.Total), $"{view.Frames[i].Name} is narrower than a pixel");
        }

        foreach (NarrowerFrames block in view.Narrower)
        {
            childTotals[block.Parent] += block.Total;
        }

        for (int i = 0; i < view.Frames.Count; i++)
        {
            Assert.Equal(view.Frames[i].Total - view.Frames[i].Self, childTotals[i]);
        }

        Assert.Equal(tree.Count, view.Frames.Count + CountNarrowSubtrees(tree, view));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Zooming_into_a_frame_with_narrower_children_draws_them() => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.Read(TestData.Bytes("cpu")));
        FlameView whole = FlameView.Build(tree, [], 20);
        NarrowerFrames block = whole.Narrower.First(b => b.Count > 1);
        ViewFrame parent = whole.Frames[block.Parent];

        FlameView zoomed = FlameView.Build(tree, tree.PathOf(parent.Node), 20 * block.Count * 1000);

        Assert.Equal(parent.Node, zoomed.Root);
        Assert.Equal(parent.Total, zoomed.Frames[0].Total);
        Assert.Equal(tree.ChildrenOf(parent.Node).Count(), zoomed.Frames.Count(f => f.Parent == 0));
        Assert.Equal(tree.PathOf(parent.Node).Length + 1, zoomed.Ancestors.Count);
        Assert.Equal(0, zoomed.Frames[0].Depth);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Zooming_into_a_block_of_narrower_frames_draws_them_even_when_their_parent_is_far_wider() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.Single(Stacks.Cpu).Add("main;big", 1_000_000);
        for (int i = 0; i < 200; i++)
        {
            builder.Add($"main;tiny{i}", 1);
        }

        FlameTree tree = FlameTreeBuilder.Build(builder.Build());
        FlameView whole = FlameView.Build(tree, [], 1000);
        FlameView main = FlameView.Build(tree, ["main"], 1000);

        FlameView block = FlameView.Build(tree, ["main"], 1000, narrowerThan: main.MinimumTotal);

        Assert.Equal(new NarrowerFrames(1, 200, 200), Assert.Single(whole.Narrower));
        Assert.Equal(1001, main.MinimumTotal);
        Assert.Equal(200, block.Span);
        Assert.Equal(["main", .. Enumerable.Range(0, 200).Select(i => $"tiny{i}").Order(StringComparer.Ordinal)], block.Frames.Select(f => f.Name));
        Assert.Empty(block.Narrower);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_zoom_path_that_names_no_frame_is_refused_in_one_line() => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(Stacks.Single(Stacks.Cpu).Add("main;a", 3).Build());

        var refused = Assert.Throws<PprofFormatException>(() => FlameView.Build(tree, ["main", "b"], 100));

        Assert.Equal("no frame 'b' under 'main' in this flame graph: the zoom path does not exist", refused.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Search_marks_matching_frames_and_counts_a_sample_under_two_matches_once() => Spec.Run(() =>
    {
        Profile profile = Stacks.Single(Stacks.Cpu).Add("main;handle;parse", 10).Add("main;handle;handle2", 5).Add("main;other", 20).Build();
        FlameTree tree = FlameTreeBuilder.Build(profile);

        FlameView view = FlameView.Build(tree, [], 1000, search: new Regex("handle", RegexOptions.NonBacktracking));

        Assert.Equal(15, view.MatchedTotal);
        Assert.Equal(["handle", "handle2"], view.Frames.Where(f => f.Matched).Select(f => f.Name));
        Assert.Equal(["root", "main", "handle", "handle2", "parse", "other"], view.Frames.Select(f => f.Name));
    });

    /// <summary>The nodes a view leaves out: the whole subtrees of the children its narrower blocks stand for.</summary>
    private static int CountNarrowSubtrees(FlameTree tree, FlameView view)
    {
        var drawn = view.Frames.Select(f => f.Node).ToHashSet();
        int count = 0;
        foreach (NarrowerFrames block in view.Narrower)
        {
            int parent = view.Frames[block.Parent].Node;
            foreach (FlameNode child in tree.ChildrenOf(parent).Where(c => !drawn.Contains(c.Index)))
            {
                count += tree.SubtreeEnd(child.Index) - child.Index;
            }
        }

        return count;
    }
}
