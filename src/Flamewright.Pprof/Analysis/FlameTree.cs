using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// A flame graph's tree: node 0 is the root, nodes are numbered in pre-order and children are sorted by name
/// (ordinal), so the numbering is deterministic. For every node, total = self + the children's totals.
/// A node's subtree is the index range [node, <see cref="SubtreeEnd"/>(node)).
/// </summary>
public sealed class FlameTree
{
    /// <summary>The name of the root node, as SkyWalking's element list calls it.</summary>
    public const string RootName = "root";

    private readonly string[] _frameNames;
    private readonly string[] _frameFiles; // per frame name, its function's source file or ""
    private readonly int[] _frames; // per node, an index into _frameNames (-1 for the root)
    private readonly int[] _parents;
    private readonly int[] _depths;
    private readonly int[] _subtreeEnds;
    private readonly long[] _totals;
    private readonly long[] _selfs;

    internal FlameTree(
        ValueType sampleType, FrameGranularity granularity, string[] frameNames, string[] frameFiles, int[] frames, int[] parents,
        int[] depths, int[] subtreeEnds, long[] totals, long[] selfs, long absoluteTotal)
    {
        _frameFiles = frameFiles;
        SampleType = sampleType;
        AbsoluteTotal = absoluteTotal;
        Granularity = granularity;
        _frameNames = frameNames;
        _frames = frames;
        _parents = parents;
        _depths = depths;
        _subtreeEnds = subtreeEnds;
        _totals = totals;
        _selfs = selfs;
    }

    /// <summary>
    /// Each node's total (its self plus its children's totals) and where its subtree ends, from the parents and selfs of
    /// nodes numbered in pre-order (a child's index is larger than its parent's): one pass from the last node up.
    /// </summary>
    internal static (long[] Totals, int[] SubtreeEnds) Accumulate(int[] parents, long[] selfs)
    {
        var totals = (long[])selfs.Clone();
        var ends = new int[parents.Length];
        for (int n = parents.Length - 1; n >= 0; n--)
        {
            ends[n] = Math.Max(ends[n], n + 1);
            int parent = parents[n];
            if (parent >= 0)
            {
                totals[parent] += totals[n];
                ends[parent] = Math.Max(ends[parent], ends[n]);
            }
        }

        return (totals, ends);
    }

    public ValueType SampleType { get; }

    /// <summary>
    /// The sum of absolute sample values over every sample of the profiles, kept by focus and ignore or not: what
    /// <c>go tool pprof</c> takes as 100% (<see cref="TopTable.AbsoluteTotal"/>).
    /// </summary>
    public long AbsoluteTotal { get; }

    /// <summary>Per node, the index of its frame's name among <see cref="FrameNames"/> (-1 for the root).</summary>
    internal ReadOnlySpan<int> NodeFrames => _frames;

    /// <summary>The distinct frame names, each once.</summary>
    internal ReadOnlySpan<string> FrameNames => _frameNames;

    /// <summary>
    /// About the memory the tree holds: six values per node and its distinct frame names, for a cache to weigh it by.
    /// </summary>
    public long ApproximateBytes
    {
        get
        {
            long names = 0;
            foreach (string name in _frameNames)
            {
                names += 24 + (2L * name.Length);
            }

            // Files are shared by many functions: a reference each.
            return (32L * _frames.Length) + (16L * _frameNames.Length) + names;
        }
    }

    public FrameGranularity Granularity { get; }

    public int Count => _frames.Length;

    public long Total => _totals[0];

    public FlameNode Root => new(this, 0);

    public FlameNode this[int index] => new(this, index);

    public string NameOf(int node) => node == 0 ? RootName : _frameNames[_frames[node]];

    /// <summary>The source file of the node's function ("" for the root, a binary or a label frame, or when the profile has none).</summary>
    public string FileOf(int node) => node == 0 ? "" : _frameFiles[_frames[node]];

    /// <summary>Per distinct frame name (<see cref="FrameNames"/>), its file.</summary>
    internal ReadOnlySpan<string> FrameFiles => _frameFiles;

    public long TotalOf(int node) => _totals[node];

    public long SelfOf(int node) => _selfs[node];

    /// <summary>The parent's index, or -1 for the root.</summary>
    public int ParentOf(int node) => _parents[node];

    /// <summary>The root has depth 0.</summary>
    public int DepthOf(int node) => _depths[node];

    /// <summary>
    /// Visits every node below the root in pre-order with its path: the nodes from the root's child down to it, the
    /// node last. The one walk the exports that print whole stacks share (folded stacks, speedscope).
    /// </summary>
    public void ForEachPath(PathVisitor visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        int[] path = new int[Math.Max(MaxDepth, 1)];
        for (int node = 1; node < Count; node++)
        {
            int depth = _depths[node];
            path[depth - 1] = node;
            visit(node, path.AsSpan(0, depth));
        }
    }

    /// <summary>One past the last node of <paramref name="node"/>'s subtree.</summary>
    public int SubtreeEnd(int node) => _subtreeEnds[node];

    /// <summary>The deepest node's depth.</summary>
    public int MaxDepth => _depths.Length == 0 ? 0 : _depths.Max();

    /// <summary>The children of <paramref name="node"/> in order.</summary>
    public IEnumerable<FlameNode> ChildrenOf(int node)
    {
        int end = _subtreeEnds[node];
        for (int child = node + 1; child < end; child = _subtreeEnds[child])
        {
            yield return new FlameNode(this, child);
        }
    }

    /// <summary>The frame names from the root's first child down to <paramref name="node"/>.</summary>
    public string[] PathOf(int node)
    {
        var path = new string[_depths[node]];
        for (int n = node; n > 0; n = _parents[n])
        {
            path[_depths[n] - 1] = NameOf(n);
        }

        return path;
    }
}

/// <summary>A node of a <see cref="FlameTree"/>.</summary>
public readonly record struct FlameNode(FlameTree Tree, int Index)
{
    public string Name => Tree.NameOf(Index);

    public long Total => Tree.TotalOf(Index);

    public long Self => Tree.SelfOf(Index);

    public int Depth => Tree.DepthOf(Index);

    public IEnumerable<FlameNode> Children => Tree.ChildrenOf(Index);

    public override string ToString() => $"{Name} total={Total} self={Self}";
}

/// <summary>A node of a <see cref="FlameTree"/> and its path from the root's child down to it (<see cref="FlameTree.ForEachPath"/>).</summary>
public delegate void PathVisitor(int node, ReadOnlySpan<int> path);
