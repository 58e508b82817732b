using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>One row of a top table.</summary>
/// <param name="Name">The frame (function) name.</param>
/// <param name="Flat">The value of samples whose leaf frame is this one.</param>
/// <param name="Cum">The value of samples with this frame anywhere in the stack, counted once per sample.</param>
public sealed record TopEntry(string Name, long Flat, long Cum);

/// <summary>
/// Flat and cumulative value per frame, computed as <c>go tool pprof -top</c> does: flat goes to a stack's
/// leaf frame, cum to every distinct frame of the stack (once, even under recursion), and percentages are of
/// the sum of absolute sample values. Rows are sorted by |flat| descending, then name, then |cum|.
/// </summary>
public sealed class TopTable
{
    internal TopTable(ValueType sampleType, long total, long absoluteTotal, TopEntry[] entries)
    {
        SampleType = sampleType;
        Total = total;
        AbsoluteTotal = absoluteTotal;
        Entries = entries;
    }

    public ValueType SampleType { get; }

    /// <summary>
    /// The sum of the sample values, over the samples that <see cref="FlameOptions.Focus"/> and
    /// <see cref="FlameOptions.Ignore"/> keep.
    /// </summary>
    public long Total { get; }

    /// <summary>
    /// The sum of absolute sample values, the 100% of every percentage (pprof's "total"). Like pprof's, it counts
    /// the samples that focus and ignore drop too, so that a focused row still shows its share of the profile.
    /// </summary>
    public long AbsoluteTotal { get; }

    public IReadOnlyList<TopEntry> Entries { get; }

    public double Percent(long value) => AbsoluteTotal == 0 ? 0 : 100.0 * value / AbsoluteTotal;

    /// <summary>The rows of <paramref name="function"/>, in the table's order: its own row, or at line granularity its lines.</summary>
    public IReadOnlyList<TopEntry> EntriesOf(string function) => [.. Entries.Where(e => FrameTable.IsFrameOf(e.Name, function))];

    public static TopTable Build(Profile profile, FlameOptions? options = null) => Build([profile], options);

    public static TopTable Build(IReadOnlyList<Profile> profiles, FlameOptions? options = null) =>
        Build(WeightedStacks.Build(profiles, options ?? FlameOptions.Default));

    internal static TopTable Build(WeightedStacks stacks)
    {
        var sums = new Sums(stacks.Frames.Count);
        foreach ((ReadOnlySpan<int> path, long value) in stacks)
        {
            sums.Add(path, value);
        }

        return sums.ToTable(stacks);
    }

    /// <summary>
    /// A top table's sums as stacks are visited: flat to a stack's leaf frame, cum once to each distinct frame of it.
    /// A stack without frames counts in the total only, as in pprof.
    /// </summary>
    internal sealed class Sums(int frameCount)
    {
        private readonly long[] _flat = new long[frameCount];
        private readonly long[] _cum = new long[frameCount];
        private readonly int[] _lastStamp = new int[frameCount]; // the last stack that counted the frame; 0 for none
        private int _stamp;

        public void Add(ReadOnlySpan<int> path, long value)
        {
            if (path.IsEmpty)
            {
                return;
            }

            int stamp = ++_stamp;
            _flat[path[^1]] += value;
            foreach (int frame in path)
            {
                if (_lastStamp[frame] != stamp)
                {
                    _lastStamp[frame] = stamp;
                    _cum[frame] += value;
                }
            }
        }

        public TopTable ToTable(WeightedStacks stacks) => ToTable(stacks.Frames, stacks.SampleType, stacks.Total, stacks.AbsoluteTotal);

        public TopTable ToTable(FrameTable frames, ValueType sampleType, long total, long absoluteTotal)
        {
            var entries = new List<TopEntry>(_flat.Length);
            for (int f = 0; f < _flat.Length; f++)
            {
                if (_lastStamp[f] != 0) // the frame is in at least one stack that counts
                {
                    entries.Add(new TopEntry(frames[f], _flat[f], _cum[f]));
                }
            }

            return new TopTable(sampleType, total, absoluteTotal, Sorted(entries));
        }
    }

    /// <summary>
    /// The top table of the samples <paramref name="tree"/> was built from, with the same options: equal to
    /// <see cref="Build(IReadOnlyList{Profile}, FlameOptions?)"/> on them, in a walk of the tree's nodes instead of the
    /// samples' stacks. A frame's flat is the self of its nodes; its cum is the total of its nodes with no ancestor of
    /// the same frame, since each stack through the frame passes through exactly one such node.
    /// </summary>
    public static TopTable Build(FlameTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ReadOnlySpan<int> frames = tree.NodeFrames;
        var flat = new long[tree.FrameNames.Length];
        var cum = new long[flat.Length];
        var onPath = new int[flat.Length];
        var seen = new bool[flat.Length];
        // The frames of the path from the root to the node being visited: a node leaves the path when the walk
        // passes its subtree's end.
        var path = new GrowableArray<int>(128);
        for (int node = 1; node < frames.Length; node++)
        {
            while (path.Count > 0 && tree.SubtreeEnd(path.AsSpan()[^1]) <= node)
            {
                onPath[frames[path.AsSpan()[^1]]]--;
                path.SetCount(path.Count - 1);
            }

            int frame = frames[node];
            seen[frame] = true;
            flat[frame] += tree.SelfOf(node);
            if (onPath[frame]++ == 0)
            {
                cum[frame] += tree.TotalOf(node);
            }

            path.Add(node);
        }

        var entries = new List<TopEntry>(flat.Length);
        for (int f = 0; f < flat.Length; f++)
        {
            if (seen[f])
            {
                entries.Add(new TopEntry(tree.FrameNames[f], flat[f], cum[f]));
            }
        }

        return new TopTable(tree.SampleType, tree.Total, tree.AbsoluteTotal, Sorted(entries));
    }

    private static TopEntry[] Sorted(List<TopEntry> entries)
    {
        entries.Sort(static (a, b) =>
        {
            int byFlat = Magnitude.Abs(b.Flat).CompareTo(Magnitude.Abs(a.Flat));
            if (byFlat != 0)
            {
                return byFlat;
            }

            int byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : Magnitude.Abs(b.Cum).CompareTo(Magnitude.Abs(a.Cum));
        });
        return [.. entries];
    }
}
