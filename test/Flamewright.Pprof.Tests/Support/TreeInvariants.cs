using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Tests.Support;

internal static class TreeInvariants
{
    /// <summary>The two trees have the same nodes in the same order, node for node, and the same totals.</summary>
    public static void Same(FlameTree expected, FlameTree actual)
    {
        Assert.Equal((expected.Count, expected.SampleType, expected.Granularity, expected.AbsoluteTotal), (actual.Count, actual.SampleType, actual.Granularity, actual.AbsoluteTotal));
        for (int node = 0; node < expected.Count; node++)
        {
            Assert.Equal(
                (expected.NameOf(node), expected.FileOf(node), expected.TotalOf(node), expected.SelfOf(node), expected.ParentOf(node), expected.DepthOf(node), expected.SubtreeEnd(node)),
                (actual.NameOf(node), actual.FileOf(node), actual.TotalOf(node), actual.SelfOf(node), actual.ParentOf(node), actual.DepthOf(node), actual.SubtreeEnd(node)));
        }
    }

    /// <summary>total = self + Σ children at every node; pre-order numbering; siblings sorted by name.</summary>
    public static void Hold(FlameTree tree)
    {
        Assert.Equal("root", tree.Root.Name);
        Assert.Equal(-1, tree.ParentOf(0));
        Assert.Equal(tree.Count, tree.SubtreeEnd(0));
        for (int node = 0; node < tree.Count; node++)
        {
            FlameNode[] children = tree.ChildrenOf(node).ToArray();
            Assert.Equal(tree.TotalOf(node), tree.SelfOf(node) + children.Sum(c => c.Total));
            for (int c = 0; c < children.Length; c++)
            {
                Assert.Equal(node, tree.ParentOf(children[c].Index));
                Assert.Equal(tree.DepthOf(node) + 1, children[c].Depth);
                if (c > 0)
                {
                    Assert.True(string.CompareOrdinal(children[c - 1].Name, children[c].Name) < 0, "siblings are sorted and distinct");
                }
            }

            if (node > 0)
            {
                Assert.True(tree.ParentOf(node) < node, "parents come before children in pre-order");
            }
        }
    }
}
