using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// Two selections of profiles (a base, say last week's instances, and a target, today's) as one flame tree over
/// the union of their call paths, so that a viewer can show what grew, shrank, appeared or disappeared. Every node
/// carries both sides' total and self; a path missing on one side has 0 there. The layout is
/// <see cref="FlameTree"/>'s: node 0 is the root, nodes are numbered in pre-order, children are sorted by name
/// (ordinal), and a node's subtree is [node, <see cref="SubtreeEnd"/>(node)).
/// </summary>
public sealed class FlameDiff
{
    private readonly string[] _names;
    private readonly int[] _parents;
    private readonly int[] _depths;
    private readonly int[] _subtreeEnds;
    private readonly long[] _baseTotals;
    private readonly long[] _baseSelfs;
    private readonly long[] _targetTotals;
    private readonly long[] _targetSelfs;

    private FlameDiff(
        ValueType sampleType, FrameGranularity granularity, string[] names, int[] parents,
        long[] baseTotals, long[] baseSelfs, long[] targetTotals, long[] targetSelfs)
    {
        SampleType = sampleType;
        Granularity = granularity;
        _names = names;
        _parents = parents;
        _baseTotals = baseTotals;
        _baseSelfs = baseSelfs;
        _targetTotals = targetTotals;
        _targetSelfs = targetSelfs;
        _depths = new int[names.Length];
        _subtreeEnds = new int[names.Length];
        for (int n = 1; n < names.Length; n++)
        {
            _depths[n] = _depths[parents[n]] + 1;
        }

        // Bottom-up in pre-order (a child's index is larger than its parent's): where each subtree ends.
        for (int n = names.Length - 1; n >= 0; n--)
        {
            _subtreeEnds[n] = Math.Max(_subtreeEnds[n], n + 1);
            if (n > 0)
            {
                _subtreeEnds[parents[n]] = Math.Max(_subtreeEnds[parents[n]], _subtreeEnds[n]);
            }
        }
    }

    /// <summary>The sample type both sides are weighed by.</summary>
    public ValueType SampleType { get; }

    public FrameGranularity Granularity { get; }

    public int Count => _names.Length;

    /// <summary>The base's total: the sum of its (kept) sample values.</summary>
    public long BaseTotal => _baseTotals[0];

    /// <summary>The target's total: the sum of its (kept) sample values.</summary>
    public long TargetTotal => _targetTotals[0];

    public string NameOf(int node) => _names[node];

    /// <summary>The parent's index, or -1 for the root.</summary>
    public int ParentOf(int node) => _parents[node];

    /// <summary>The root has depth 0.</summary>
    public int DepthOf(int node) => _depths[node];

    /// <summary>One past the last node of <paramref name="node"/>'s subtree.</summary>
    public int SubtreeEnd(int node) => _subtreeEnds[node];

    /// <summary>The base's value of samples through this path; 0 when the base never took it.</summary>
    public long BaseTotalOf(int node) => _baseTotals[node];

    /// <summary>The base's value of samples that end at this path.</summary>
    public long BaseSelfOf(int node) => _baseSelfs[node];

    /// <summary>The target's value of samples through this path; 0 when the target never took it.</summary>
    public long TargetTotalOf(int node) => _targetTotals[node];

    /// <summary>The target's value of samples that end at this path.</summary>
    public long TargetSelfOf(int node) => _targetSelfs[node];

    /// <summary>The frame names from the root's first child down to <paramref name="node"/>.</summary>
    public string[] PathOf(int node)
    {
        var path = new string[_depths[node]];
        for (int n = node; n > 0; n = _parents[n])
        {
            path[_depths[n] - 1] = _names[n];
        }

        return path;
    }

    /// <summary>
    /// Weighs both selections with the same <paramref name="options"/> (sample type, granularity, focus and
    /// ignore) and joins them by call path. The sample type is resolved in the first base profile and then looked
    /// up by type and unit in every profile, so that both sides measure the same thing even when their default
    /// sample types differ (a heap profile against an allocs profile).
    /// </summary>
    /// <exception cref="PprofFormatException">
    /// A profile's sample types differ from the first base profile's (a CPU profile against a heap profile), the
    /// sample type is unknown, a pattern is invalid, or a limit of <paramref name="options"/> is exceeded.
    /// </exception>
    public static FlameDiff Build(IReadOnlyList<Profile> baseProfiles, IReadOnlyList<Profile> targetProfiles, FlameOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(baseProfiles);
        ArgumentNullException.ThrowIfNull(targetProfiles);
        if (baseProfiles.Count == 0)
        {
            throw new ArgumentException("at least one base profile is needed", nameof(baseProfiles));
        }

        if (targetProfiles.Count == 0)
        {
            throw new ArgumentException("at least one target profile is needed", nameof(targetProfiles));
        }

        options ??= FlameOptions.Default;
        options.Validate();
        int[] baseTypes = SampleTypeSelection.Resolve(baseProfiles, options.SampleType);
        Profile reference = baseProfiles[0];
        int[] targetTypes = SampleTypeSelection.IndexesOf(
            reference.SampleTypes[baseTypes[0]], reference, targetProfiles, "target profile", "compared with the base");
        // One filter for both sides: each name is matched once, whichever side it comes from.
        StackFilter? filter = StackFilter.Create(options);
        FlameTree baseTree = FlameTreeBuilder.Build(WeightedStacks.Build(baseProfiles, options, baseTypes, filter));
        FlameTree targetTree = FlameTreeBuilder.Build(WeightedStacks.Build(targetProfiles, options, targetTypes, filter));
        return Join(baseTree, targetTree, options.MaxNodes).ToDiff(baseTree.SampleType, options.Granularity);
    }

    /// <summary>
    /// Walks both trees at once in pre-order. Siblings are sorted by name in both, so the children of two matching
    /// nodes pair up by merging two sorted lists, and the union comes out in pre-order with sorted children: the
    /// same layout as either tree, with no lookup by name.
    /// </summary>
    private static Nodes Join(FlameTree baseTree, FlameTree targetTree, int maxNodes)
    {
        var nodes = new Nodes(Math.Max(baseTree.Count, targetTree.Count));
        // (base node or -1, target node or -1, parent in the diff); an explicit stack, as stacks can be thousands
        // of frames deep.
        var pending = new Stack<(int Base, int Target, int Parent)>();
        var children = new List<(int Base, int Target)>();
        pending.Push((0, 0, -1));
        while (pending.TryPop(out (int Base, int Target, int Parent) entry))
        {
            if (nodes.Count >= maxNodes)
            {
                PprofFormatException.Throw($"the flame diff would have more than {maxNodes} nodes (MaxNodes)");
            }

            int index = nodes.Count;
            string name = entry.Base >= 0 ? baseTree.NameOf(entry.Base) : targetTree.NameOf(entry.Target);
            nodes.Add(name, entry.Parent, Side(baseTree, entry.Base), Side(targetTree, entry.Target));
            PairChildren(baseTree, entry.Base, targetTree, entry.Target, children);
            for (int c = children.Count - 1; c >= 0; c--)
            {
                pending.Push((children[c].Base, children[c].Target, index));
            }
        }

        return nodes;
    }

    private static (long Total, long Self) Side(FlameTree tree, int node) =>
        node < 0 ? (0, 0) : (tree.TotalOf(node), tree.SelfOf(node));

    /// <summary>The children of both nodes (either may be -1: absent), paired by name, in name order.</summary>
    private static void PairChildren(FlameTree baseTree, int baseNode, FlameTree targetTree, int targetNode, List<(int Base, int Target)> pairs)
    {
        pairs.Clear();
        int b = baseNode < 0 ? -1 : FirstChild(baseTree, baseNode);
        int t = targetNode < 0 ? -1 : FirstChild(targetTree, targetNode);
        while (b >= 0 || t >= 0)
        {
            int order = b < 0 ? 1 : t < 0 ? -1 : string.CompareOrdinal(baseTree.NameOf(b), targetTree.NameOf(t));
            pairs.Add((order <= 0 ? b : -1, order >= 0 ? t : -1));
            if (order <= 0)
            {
                b = NextSibling(baseTree, b);
            }

            if (order >= 0)
            {
                t = NextSibling(targetTree, t);
            }
        }
    }

    private static int FirstChild(FlameTree tree, int node) => node + 1 < tree.SubtreeEnd(node) ? node + 1 : -1;

    private static int NextSibling(FlameTree tree, int node)
    {
        int next = tree.SubtreeEnd(node);
        return next < tree.SubtreeEnd(tree.ParentOf(node)) ? next : -1;
    }

    /// <summary>The diff's nodes while they are joined, in pre-order.</summary>
    private sealed class Nodes(int capacity)
    {
        private GrowableArray<string> _names = new(capacity);
        private GrowableArray<int> _parents = new(capacity);
        private GrowableArray<long> _baseTotals = new(capacity);
        private GrowableArray<long> _baseSelfs = new(capacity);
        private GrowableArray<long> _targetTotals = new(capacity);
        private GrowableArray<long> _targetSelfs = new(capacity);

        public int Count => _names.Count;

        public void Add(string name, int parent, (long Total, long Self) baseSide, (long Total, long Self) targetSide)
        {
            _names.Add(name);
            _parents.Add(parent);
            _baseTotals.Add(baseSide.Total);
            _baseSelfs.Add(baseSide.Self);
            _targetTotals.Add(targetSide.Total);
            _targetSelfs.Add(targetSide.Self);
        }

        public FlameDiff ToDiff(ValueType sampleType, FrameGranularity granularity) => new(
            sampleType, granularity, _names.ToArray(), _parents.ToArray(),
            _baseTotals.ToArray(), _baseSelfs.ToArray(), _targetTotals.ToArray(), _targetSelfs.ToArray());
    }
}
