using System.Text.RegularExpressions;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// One frame a view draws: a node of the tree (<c>Node</c>, its index there), the position of its parent frame in
/// <see cref="FlameView.Frames"/> (<c>Parent</c>, -1 for the view's root), its depth below the view's root, its
/// name and values, and whether the search pattern matches its name.
/// </summary>
public readonly record struct ViewFrame(int Node, int Parent, int Depth, string Name, long Total, long Self, bool Matched, string File = "");

/// <summary>
/// The children of one drawn frame (at position <c>Parent</c> of <see cref="FlameView.Frames"/>) that are too
/// narrow to draw, as one block: how many, and their exact total. They come after that frame's drawn children;
/// zooming into the frame draws them.
/// </summary>
public readonly record struct NarrowerFrames(int Parent, int Count, long Total);

/// <summary>A frame of the zoom trail: a node of the tree from its root down to a view's zoom root, with its name and total.</summary>
public readonly record struct ViewAncestor(int Node, string Name, long Total);

/// <summary>
/// What a flame graph of a given width can show of a tree: under the zoom root, every frame at least
/// <c>minimum</c> wide (its total at least the root's total × minimum pixels ÷ width), and per drawn frame one
/// <see cref="NarrowerFrames"/> block for the children below that. Values are the tree's, exact: each drawn frame's
/// self, its drawn children and its narrower block add up to its total. A browser receives a few thousand frames
/// for any profile size, and no frame is out of reach, since zooming into its parent widens it.
/// </summary>
public sealed class FlameView
{
    internal FlameView(
        int root, ViewAncestor[] ancestors, long treeTotal, ViewFrame[] frames, NarrowerFrames[] narrower, long matchedTotal, long span,
        int widthPixels, Int128 scaledMinimum, bool searched)
    {
        Root = root;
        Ancestors = ancestors;
        TreeTotal = treeTotal;
        Frames = frames;
        Narrower = narrower;
        MatchedTotal = matchedTotal;
        Span = span;
        WidthPixels = widthPixels;
        ScaledMinimum = scaledMinimum;
        Searched = searched;
        // The smallest total drawn: |total| × width × 1024 ≥ minimum × 1024 × span, rounded up to a whole value.
        Int128 least = ((scaledMinimum * span) + (widthPixels * 1024) - 1) / (widthPixels * 1024);
        MinimumTotal = (long)Int128.Min(least, long.MaxValue);
    }

    /// <summary>
    /// The value the view's full width stands for: the zoom root's total, or, for a view of narrower frames only,
    /// their total.
    /// </summary>
    public long Span { get; }

    /// <summary>
    /// The smallest total a frame of this view needs to be drawn (a pixel, or the minimum asked for): the children of
    /// a <see cref="NarrowerFrames"/> block are those below it, which a view with <c>narrowerThan</c> set to it shows.
    /// </summary>
    public long MinimumTotal { get; }

    /// <summary>The width the view was cut for, in pixels.</summary>
    public int WidthPixels { get; }

    /// <summary>The tree's total: the root's, the 100% of the shares a graph shows.</summary>
    public long TreeTotal { get; }

    /// <summary>The zoom root's node in the tree (0 when not zoomed).</summary>
    public int Root { get; }

    /// <summary>The drawn frames in pre-order, the zoom root first.</summary>
    public IReadOnlyList<ViewFrame> Frames { get; }

    /// <summary>Per drawn frame with narrower children, one block; in the order of their parents.</summary>
    public IReadOnlyList<NarrowerFrames> Narrower { get; }

    /// <summary>
    /// With a search pattern: the value of the samples under the zoom root with a matching frame in their stack (a
    /// matching frame under another matching frame is counted once), narrow frames included: the share a search shows
    /// of the zoomed frame. Matching ancestors of the zoom root are not counted: they would match everything below.
    /// </summary>
    public long MatchedTotal { get; }

    /// <summary>The frames from the tree's root down to the zoom root, root first (the zoom trail).</summary>
    public IReadOnlyList<ViewAncestor> Ancestors { get; }

    /// <summary>The minimum width of a drawn frame in 1/1024 pixels.</summary>
    internal Int128 ScaledMinimum { get; }

    /// <summary>Whether a search pattern marked the frames.</summary>
    internal bool Searched { get; }

    /// <summary>
    /// The view a graph <paramref name="widthPixels"/> wide (at most this view's width) draws of the same frames: equal
    /// to building it from the tree at that width, without the tree. A frame is drawn when its parent is and it is
    /// wide enough at the new width; the others join their parent's block of narrower frames. This is how a view kept
    /// at the widest width a server allows answers a first look at any width (docs/digest.md).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Wider than this view, or not positive.</exception>
    /// <exception cref="InvalidOperationException">A searched view: its marks and matched total need the tree.</exception>
    public FlameView Narrowed(int widthPixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(widthPixels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(widthPixels, WidthPixels);
        if (Searched)
        {
            throw new InvalidOperationException("a searched view cannot be narrowed");
        }

        var positions = new int[Frames.Count];
        var narrowCounts = new int[Frames.Count];
        var narrowTotals = new long[Frames.Count];
        var frames = new List<ViewFrame>(Frames.Count);
        for (int i = 0; i < Frames.Count; i++)
        {
            ViewFrame frame = Frames[i];
            int parent = frame.Parent < 0 ? -1 : positions[frame.Parent];
            if (frame.Parent < 0 || (parent >= 0 && Wide(frame.Total, Span, widthPixels, ScaledMinimum)))
            {
                positions[i] = frames.Count;
                frames.Add(frame with { Parent = parent });
            }
            else
            {
                positions[i] = -1;
                if (parent >= 0)
                {
                    narrowCounts[frame.Parent]++;
                    narrowTotals[frame.Parent] += frame.Total;
                }
            }
        }

        foreach (NarrowerFrames block in Narrower)
        {
            narrowCounts[block.Parent] += block.Count;
            narrowTotals[block.Parent] += block.Total;
        }

        var narrower = new List<NarrowerFrames>();
        for (int i = 0; i < Frames.Count; i++)
        {
            if (positions[i] >= 0 && narrowCounts[i] > 0)
            {
                narrower.Add(new NarrowerFrames(positions[i], narrowCounts[i], narrowTotals[i]));
            }
        }

        return new FlameView(Root, [.. Ancestors], TreeTotal, [.. frames], [.. narrower], 0, Span, widthPixels, ScaledMinimum, searched: false);
    }

    /// <summary>
    /// The view of <paramref name="tree"/> under the node at <paramref name="zoomPath"/> (frame names from the root's
    /// child down; empty for the whole tree) for a graph <paramref name="widthPixels"/> wide, drawing frames at least
    /// <paramref name="minimumPixels"/> wide.
    /// </summary>
    /// <remarks>
    /// With a <paramref name="search"/> pattern, frames whose name it matches are marked, and
    /// <see cref="MatchedTotal"/> counts their samples. With <paramref name="narrowerThan"/>, the view shows only the
    /// zoom root's children whose total is below it (a <see cref="NarrowerFrames"/> block of the view one level out,
    /// given that view's <see cref="MinimumTotal"/>), scaled so that they fill the width: zooming into a block. Blocks
    /// inside it are zoomed the same way, so every frame, however narrow, is drawn after some zooms.
    /// </remarks>
    /// <exception cref="PprofFormatException">No node has the zoom path.</exception>
    public static FlameView Build(
        FlameTree tree, IReadOnlyList<string> zoomPath, int widthPixels, double minimumPixels = 1, Regex? search = null, long? narrowerThan = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(zoomPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(widthPixels, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumPixels);
        int root = Find(tree, zoomPath);
        bool[]? matches = search is null ? null : MatchNames(tree, search);
        long rootMagnitude = narrowerThan is long limit ? NarrowerSpan(tree, root, limit) : Magnitude.Abs(tree.TotalOf(root));
        // A frame is drawn when |total| × width ÷ |root total| reaches the minimum: compared without division, in
        // 128-bit arithmetic so that no profile's totals overflow.
        Int128 scaledMinimum = ScaledMinimumOf(minimumPixels);

        var frames = new List<ViewFrame>(1024);
        var narrower = new List<NarrowerFrames>();
        var stack = new Stack<(int Node, int Parent)>();
        stack.Push((root, -1));
        while (stack.Count > 0)
        {
            (int node, int parent) = stack.Pop();
            int position = frames.Count;
            frames.Add(new ViewFrame(node, parent, tree.DepthOf(node) - tree.DepthOf(root), tree.NameOf(node), tree.TotalOf(node), tree.SelfOf(node),
                matches is not null && node != 0 && matches[node], tree.FileOf(node)));

            int count = 0;
            long narrowTotal = 0;
            int firstDrawn = stack.Count;
            int end = tree.SubtreeEnd(node);
            for (int child = node + 1; child < end; child = tree.SubtreeEnd(child))
            {
                if (node == root && narrowerThan is long below && Magnitude.Abs(tree.TotalOf(child)) >= below)
                {
                    continue;
                }

                if (Wide(tree.TotalOf(child), rootMagnitude, widthPixels, scaledMinimum))
                {
                    stack.Push((child, position));
                }
                else
                {
                    count++;
                    narrowTotal += tree.TotalOf(child);
                }
            }

            // Children were pushed first to last: reverse them so that they pop, and are listed, in the tree's order.
            ReverseTop(stack, stack.Count - firstDrawn);
            if (count > 0)
            {
                narrower.Add(new NarrowerFrames(position, count, narrowTotal));
            }
        }

        var ancestors = new List<ViewAncestor>();
        for (int node = root; node >= 0; node = tree.ParentOf(node))
        {
            ancestors.Add(new ViewAncestor(node, tree.NameOf(node), tree.TotalOf(node)));
        }

        ancestors.Reverse();
        return new FlameView(
            root, [.. ancestors], tree.Total, [.. frames], [.. narrower], matches is null ? 0 : SumMatched(tree, root, matches), rootMagnitude,
            widthPixels, scaledMinimum, searched: matches is not null);
    }

    /// <summary>
    /// The whole tree's view from its drawn frames found without the tree (<see cref="StackView"/>): per drawn frame
    /// (the root first, every parent before its children) its frame id, parent, total, self and its children too narrow
    /// to draw. Frames are listed in the tree's pre-order, siblings by name, and numbered by their place in the list.
    /// </summary>
    internal static FlameView OfDrawn(
        FrameTable frameTable, ReadOnlySpan<int> frameIds, ReadOnlySpan<int> parents, ReadOnlySpan<long> totals, ReadOnlySpan<long> selfs,
        ReadOnlySpan<int> narrowCounts, ReadOnlySpan<long> narrowTotals, long span, int widthPixels, Int128 scaledMinimum)
    {
        int count = frameIds.Length;
        ReadOnlySpan<string> names = frameTable.Names;
        ReadOnlySpan<string> files = frameTable.Files;

        // Each frame's children, contiguous and sorted by name: frame p's are children[firstChild[p]..firstChild[p + 1]).
        var firstChild = new int[count + 1];
        for (int f = 1; f < count; f++)
        {
            firstChild[parents[f] + 1]++;
        }

        for (int f = 0; f < count; f++)
        {
            firstChild[f + 1] += firstChild[f];
        }

        var children = new int[Math.Max(count - 1, 0)];
        var filled = new int[count];
        for (int f = 1; f < count; f++)
        {
            int parent = parents[f];
            children[firstChild[parent] + filled[parent]++] = f;
        }

        // Siblings sort by name, as the tree's do: by each name's rank.
        int[] rank = FlameTreeBuilder.Trie.NameRanks(names);
        var keys = new int[children.Length];
        for (int c = 0; c < children.Length; c++)
        {
            keys[c] = rank[frameIds[children[c]]];
        }

        for (int f = 0; f < count; f++)
        {
            int length = firstChild[f + 1] - firstChild[f];
            if (length > 1)
            {
                Array.Sort(keys, children, firstChild[f], length);
            }
        }

        var frames = new ViewFrame[count];
        var narrower = new List<NarrowerFrames>();
        var pending = new Stack<(int Found, int Parent, int Depth)>();
        pending.Push((0, -1, 0));
        int next = 0;
        while (pending.Count > 0)
        {
            (int found, int parent, int depth) = pending.Pop();
            int position = next++;
            frames[position] = found == 0
                ? new ViewFrame(0, -1, 0, FlameTree.RootName, totals[0], selfs[0], false)
                : new ViewFrame(position, parent, depth, names[frameIds[found]], totals[found], selfs[found], false, files[frameIds[found]]);
            if (narrowCounts[found] > 0)
            {
                narrower.Add(new NarrowerFrames(position, narrowCounts[found], narrowTotals[found]));
            }

            for (int c = firstChild[found + 1] - 1; c >= firstChild[found]; c--)
            {
                pending.Push((children[c], position, depth + 1));
            }
        }

        return new FlameView(
            0, [new ViewAncestor(0, FlameTree.RootName, totals[0])], totals[0], frames, [.. narrower], 0, span, widthPixels, scaledMinimum, searched: false);
    }

    /// <summary>The total of <paramref name="root"/>'s children below <paramref name="limit"/>.</summary>
    private static long NarrowerSpan(FlameTree tree, int root, long limit)
    {
        long span = 0;
        int end = tree.SubtreeEnd(root);
        for (int child = root + 1; child < end; child = tree.SubtreeEnd(child))
        {
            long magnitude = Magnitude.Abs(tree.TotalOf(child));
            if (magnitude < limit)
            {
                span = span > long.MaxValue - magnitude ? long.MaxValue : span + magnitude;
            }
        }

        return span;
    }

    /// <summary>Whether a frame of <paramref name="total"/> is drawn: |total| × width ÷ |root total| reaches the minimum, compared in 128-bit arithmetic.</summary>
    internal static bool Wide(long total, long rootMagnitude, int width, Int128 scaledMinimum) =>
        rootMagnitude == 0 || (Int128)Magnitude.Abs(total) * width * 1024 >= scaledMinimum * rootMagnitude;

    /// <summary>The minimum width of a drawn frame in 1/1024 pixels.</summary>
    internal static Int128 ScaledMinimumOf(double minimumPixels) => (Int128)Math.Ceiling(minimumPixels * 1024);

    /// <summary>The node at <paramref name="path"/>: children are unique by name, so a path names one node.</summary>
    private static int Find(FlameTree tree, IReadOnlyList<string> path)
    {
        int node = 0;
        foreach (string name in path)
        {
            int found = -1;
            int end = tree.SubtreeEnd(node);
            for (int child = node + 1; child < end; child = tree.SubtreeEnd(child))
            {
                if (string.Equals(tree.NameOf(child), name, StringComparison.Ordinal))
                {
                    found = child;
                    break;
                }
            }

            if (found < 0)
            {
                PprofFormatException.Throw($"no frame '{name}' under '{tree.NameOf(node)}' in this flame graph: the zoom path does not exist");
            }

            node = found;
        }

        return node;
    }

    /// <summary>Per node, whether the pattern matches its name; each distinct name is matched once.</summary>
    private static bool[] MatchNames(FlameTree tree, Regex search)
    {
        var answers = new Dictionary<string, bool>(StringComparer.Ordinal);
        var matches = new bool[tree.Count];
        for (int node = 1; node < tree.Count; node++)
        {
            string name = tree.NameOf(node);
            if (!answers.TryGetValue(name, out bool answer))
            {
                answer = FramePattern.IsMatch(search, "search", name);
                answers.Add(name, answer);
            }

            matches[node] = answer;
        }

        return matches;
    }

    /// <summary>The totals of the matching nodes of <paramref name="root"/>'s subtree with no matching ancestor in it: each sample counted once.</summary>
    private static long SumMatched(FlameTree tree, int root, bool[] matches)
    {
        long total = 0;
        int node = root == 0 ? 1 : root;
        int end = tree.SubtreeEnd(root);
        while (node < end)
        {
            if (matches[node])
            {
                total += tree.TotalOf(node);
                node = tree.SubtreeEnd(node);
            }
            else
            {
                node++;
            }
        }

        return total;
    }

    private static void ReverseTop(Stack<(int, int)> stack, int count)
    {
        if (count < 2)
        {
            return;
        }

        var top = new (int, int)[count];
        for (int i = 0; i < count; i++)
        {
            top[i] = stack.Pop();
        }

        foreach ((int, int) item in top)
        {
            stack.Push(item);
        }
    }
}
