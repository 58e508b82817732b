using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>Builds <see cref="FlameTree"/>s from one profile or merges several (instances of one service).</summary>
public static class FlameTreeBuilder
{
    public static FlameTree Build(Profile profile, FlameOptions? options = null) => Build([profile], options);

    /// <summary>Merges <paramref name="profiles"/> into one tree weighted by the chosen sample type's values.</summary>
    /// <exception cref="PprofFormatException">The sample type is unknown or the profiles do not merge.</exception>
    public static FlameTree Build(IReadOnlyList<Profile> profiles, FlameOptions? options = null) =>
        Build(WeightedStacks.Build(profiles, options ?? FlameOptions.Default));

    internal static FlameTree Build(WeightedStacks stacks)
    {
        var trie = new Trie(ExpectedNodes(stacks));
        // Consecutive stacks often share their root part (a profile written in tree order shares nearly all of
        // it): the nodes of the previous stack's path are reused for the common prefix without a lookup.
        var previousFrames = new GrowableArray<int>(128);
        var previousNodes = new GrowableArray<int>(128);
        foreach ((ReadOnlySpan<int> path, long value) in stacks)
        {
            int common = path.CommonPrefixLength(previousFrames.AsSpan());
            int node = common == 0 ? 0 : previousNodes.AsSpan()[common - 1];
            previousFrames.Clear();
            previousFrames.AddRange(path);
            previousNodes.SetCount(common);
            for (int i = common; i < path.Length; i++)
            {
                node = trie.Child(node, path[i]);
                previousNodes.Add(node);
            }

            trie.AddSelf(node, value);
        }

        return trie.ToTree(stacks);
    }

    /// <summary>
    /// A first guess at the node count, so that the lookup table does not rehash its way up from nothing: real
    /// profiles have a few new frames per distinct stack. Capped, since it is only a guess.
    /// </summary>
    private static int ExpectedNodes(WeightedStacks stacks)
    {
        long used = 0;
        foreach (WeightedStacks.Part part in stacks.Parts)
        {
            foreach (bool isUsed in part.StackUsed)
            {
                used += isUsed ? 1 : 0;
            }
        }

        return (int)Math.Min(used * 4, MaxPresizedNodes);
    }

    /// <summary>Pre-sizing stops at 8 M nodes (a 192 MiB lookup table); larger trees grow it.</summary>
    private const int MaxPresizedNodes = 1 << 23;

    /// <summary>
    /// The tree while it is being built: nodes in insertion order, children found through one open-addressing
    /// table keyed by (parent, frame). <see cref="ToTree"/> renumbers it in pre-order with sorted children.
    /// </summary>
    private sealed class Trie
    {
        private long[] _keys;   // (parent << 32 | frame) + 1; 0 = empty slot
        private int[] _nodes;
        private GrowableArray<int> _parents;
        private GrowableArray<int> _frames;
        private GrowableArray<long> _self;

        public Trie(int expectedNodes)
        {
            int slots = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(expectedNodes, 1024) * 2);
            _keys = new long[slots];
            _nodes = new int[slots];
            _parents = new GrowableArray<int>(expectedNodes + 1);
            _frames = new GrowableArray<int>(expectedNodes + 1);
            _self = new GrowableArray<long>(expectedNodes + 1);
            _parents.Add(-1);
            _frames.Add(-1);
            _self.Add(0);
        }

        public int Child(int parent, int frame)
        {
            long key = (((long)parent << 32) | (uint)frame) + 1;
            int mask = _keys.Length - 1;
            int slot = Slot(key, mask);
            while (true)
            {
                long existing = _keys[slot];
                if (existing == key)
                {
                    return _nodes[slot];
                }

                if (existing == 0)
                {
                    break;
                }

                slot = (slot + 1) & mask;
            }

            int child = _parents.Count;
            _parents.Add(parent);
            _frames.Add(frame);
            _self.Add(0);
            _keys[slot] = key;
            _nodes[slot] = child;
            if ((long)child * 2 > _keys.Length)
            {
                Grow();
            }

            return child;
        }

        private static int Slot(long key, int mask) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15UL)) >> 33) & mask;

        private void Grow()
        {
            long[] keys = new long[_keys.Length * 2];
            int[] nodes = new int[keys.Length];
            int mask = keys.Length - 1;
            for (int i = 0; i < _keys.Length; i++)
            {
                long key = _keys[i];
                if (key == 0)
                {
                    continue;
                }

                int slot = Slot(key, mask);
                while (keys[slot] != 0)
                {
                    slot = (slot + 1) & mask;
                }

                keys[slot] = key;
                nodes[slot] = _nodes[i];
            }

            _keys = keys;
            _nodes = nodes;
        }

        public void AddSelf(int node, long value) => _self.AsSpan()[node] += value;

        public FlameTree ToTree(WeightedStacks stacks)
        {
            // The lookup table is done with: let the collector have it before the final arrays are allocated.
            _keys = [];
            _nodes = [];

            int count = _parents.Count;
            ReadOnlySpan<int> parents = _parents.AsSpan();
            ReadOnlySpan<int> frames = _frames.AsSpan();
            ReadOnlySpan<long> self = _self.AsSpan();
            ReadOnlySpan<string> frameNames = stacks.Frames.Names;

            // Totals bottom-up: a child always has a larger insertion index than its parent.
            var totals = new long[count];
            self.CopyTo(totals);
            for (int n = count - 1; n > 0; n--)
            {
                totals[parents[n]] += totals[n];
            }

            // Children of each node, contiguous, sorted by name.
            var childStart = new int[count + 1];
            for (int n = 1; n < count; n++)
            {
                childStart[parents[n] + 1]++;
            }

            for (int n = 0; n < count; n++)
            {
                childStart[n + 1] += childStart[n];
            }

            // Siblings sort by name; ranking the distinct names once turns every comparison into an int compare.
            int[] rank = NameRanks(frameNames);
            var children = new int[Math.Max(count - 1, 0)];
            var keys = new int[children.Length];
            var fill = (int[])childStart.Clone();
            for (int n = 1; n < count; n++)
            {
                int slot = fill[parents[n]]++;
                children[slot] = n;
                keys[slot] = rank[frames[n]];
            }

            for (int n = 0; n < count; n++)
            {
                int length = childStart[n + 1] - childStart[n];
                if (length > 1)
                {
                    Array.Sort(keys, children, childStart[n], length);
                }
            }

            // Pre-order renumbering with an explicit stack: stacks can be thousands of frames deep.
            var names = new string[count];
            var newParents = new int[count];
            var depths = new int[count];
            var ends = new int[count];
            var newTotals = new long[count];
            var newSelf = new long[count];
            var pending = new Stack<(int Old, int Parent, int Depth)>();
            pending.Push((0, -1, 0));
            int next = 0;
            while (pending.Count > 0)
            {
                (int old, int parent, int depth) = pending.Pop();
                int index = next++;
                names[index] = old == 0 ? FlameTree.RootName : frameNames[frames[old]];
                newParents[index] = parent;
                depths[index] = depth;
                newTotals[index] = totals[old];
                newSelf[index] = self[old];
                for (int c = childStart[old + 1] - 1; c >= childStart[old]; c--)
                {
                    pending.Push((children[c], index, depth + 1));
                }
            }

            // A subtree ends where the next node at the same or a shallower depth starts.
            for (int n = count - 1; n >= 0; n--)
            {
                ends[n] = n + 1;
            }

            for (int n = count - 1; n > 0; n--)
            {
                int parent = newParents[n];
                ends[parent] = Math.Max(ends[parent], ends[n]);
            }

            return new FlameTree(stacks.SampleType, stacks.Frames.Granularity, names, newParents, depths, ends, newTotals, newSelf);
        }

        private static int[] NameRanks(ReadOnlySpan<string> names)
        {
            var order = new int[names.Length];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            string[] sortedNames = names.ToArray();
            Array.Sort(sortedNames, order, StringComparer.Ordinal);
            var rank = new int[names.Length];
            for (int r = 0; r < order.Length; r++)
            {
                rank[order[r]] = r;
            }

            return rank;
        }
    }
}
