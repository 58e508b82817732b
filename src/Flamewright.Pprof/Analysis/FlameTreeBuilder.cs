using Flamewright.Pprof.Model;
using Flamewright.Pprof.Primitives;

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
        var trie = new Trie(ExpectedNodes(stacks), stacks.Options.MaxNodes);
        // Consecutive stacks often share their root part: the nodes of the previous stack's path are reused for
        // the common prefix without any lookup. Past it, one lookup finds whether the next frame exists; once a
        // node is new, everything below it is new too and is appended without looking.
        var previousFrames = new GrowableArray<int>(128);
        var previousNodes = new GrowableArray<int>(128);
        foreach ((ReadOnlySpan<int> path, long value) in stacks)
        {
            int common = path.CommonPrefixLength(previousFrames.AsSpan());
            int node = common == 0 ? 0 : previousNodes.AsSpan()[common - 1];
            previousFrames.Clear();
            previousFrames.AddRange(path);
            previousNodes.SetCount(common);
            bool fresh = false;
            for (int i = common; i < path.Length; i++)
            {
                int child = fresh ? -1 : trie.Find(node, path[i]);
                if (child < 0)
                {
                    child = trie.Add(node, path[i]);
                    fresh = true;
                }

                node = child;
                previousNodes.Add(node);
            }

            trie.AddSelf(node, value);
        }

        return trie.ToTree(stacks);
    }

    /// <summary>
    /// A first guess at the node count, so that the node arrays do not grow their way up from nothing: real
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

        return (int)Math.Min(Math.Min(used * 4, MaxPresizedNodes), stacks.Options.MaxNodes);
    }

    /// <summary>Pre-sizing stops at 8 M nodes; larger trees grow their arrays.</summary>
    private const int MaxPresizedNodes = 1 << 23;

    /// <summary>
    /// The tree while it is being built: nodes in insertion order with sibling lists. A node with many children
    /// (the root of a profile of truncated stacks has thousands) indexes them in a shared dictionary instead.
    /// <see cref="ToTree"/> renumbers the nodes in pre-order with sorted children.
    /// </summary>
    internal sealed class Trie
    {
        /// <summary>Past this many children a node's children are found by hashing, not by scanning.</summary>
        private const int ScanLimit = 8;

        private readonly Dictionary<ulong, int> _wide = new(UnpredictableHash.Instance);
        private readonly int _maxNodes;
        private GrowableArray<int> _parents;
        private GrowableArray<int> _frames;
        private GrowableArray<int> _firstChild;
        private GrowableArray<int> _nextSibling;
        private GrowableArray<int> _childCount;
        private GrowableArray<long> _self;

        public Trie(int expectedNodes, int maxNodes)
        {
            _maxNodes = maxNodes;
            int capacity = Math.Max(expectedNodes, 1024);
            _parents = new GrowableArray<int>(capacity);
            _frames = new GrowableArray<int>(capacity);
            _firstChild = new GrowableArray<int>(capacity);
            _nextSibling = new GrowableArray<int>(capacity);
            _childCount = new GrowableArray<int>(capacity);
            _self = new GrowableArray<long>(capacity);
            AddNode(-1, -1); // the root
        }

        /// <summary>The child of <paramref name="parent"/> for <paramref name="frame"/>, or -1.</summary>
        public int Find(int parent, int frame)
        {
            if (_childCount.Items[parent] > ScanLimit)
            {
                return _wide.TryGetValue(Key(parent, frame), out int indexed) ? indexed : -1;
            }

            int[] frames = _frames.Items, next = _nextSibling.Items;
            for (int child = _firstChild.Items[parent]; child >= 0; child = next[child])
            {
                if (frames[child] == frame)
                {
                    return child;
                }
            }

            return -1;
        }

        /// <summary>The child of <paramref name="parent"/> for <paramref name="frame"/>, added when there is none.</summary>
        public int FindOrAdd(int parent, int frame) => Find(parent, frame) is int child and >= 0 ? child : Add(parent, frame);

        /// <summary>Adds a child that <see cref="Find"/> did not find.</summary>
        public int Add(int parent, int frame)
        {
            int child = AddNode(parent, frame);
            Span<int> firstChild = _firstChild.AsSpan();
            _nextSibling.AsSpan()[child] = firstChild[parent];
            firstChild[parent] = child;
            int count = ++_childCount.AsSpan()[parent];
            if (count == ScanLimit + 1)
            {
                // The node just became wide: index all its children.
                for (int c = child; c >= 0; c = _nextSibling.Items[c])
                {
                    _wide.Add(Key(parent, _frames.Items[c]), c);
                }
            }
            else if (count > ScanLimit + 1)
            {
                _wide.Add(Key(parent, frame), child);
            }

            return child;
        }

        private int AddNode(int parent, int frame)
        {
            int node = _parents.Count;
            if (node >= _maxNodes)
            {
                PprofFormatException.Throw($"the flame tree would have more than {_maxNodes} nodes (MaxNodes)");
            }

            _parents.Add(parent);
            _frames.Add(frame);
            _firstChild.Add(-1);
            _nextSibling.Add(-1);
            _childCount.Add(0);
            _self.Add(0);
            return node;
        }

        private static ulong Key(int parent, int frame) => ((ulong)(uint)parent << 32) | (uint)frame;

        public void AddSelf(int node, long value) => _self.AsSpan()[node] += value;

        public FlameTree ToTree(WeightedStacks stacks)
        {
            // The lookup structures are done with: let the collector have them before the final arrays exist.
            _wide.Clear();
            _wide.TrimExcess();
            _firstChild = default;
            _nextSibling = default;
            _childCount = default;

            int count = _parents.Count;
            ReadOnlySpan<int> parents = _parents.AsSpan();
            ReadOnlySpan<int> frames = _frames.AsSpan();
            ReadOnlySpan<long> self = _self.AsSpan();
            ReadOnlySpan<string> frameNames = stacks.Frames.Names;

            // Children of each node, contiguous: node p's children end up in [blockEnd[p - 1], blockEnd[p]).
            var blockEnd = new int[count];
            for (int n = 1; n < count; n++)
            {
                blockEnd[parents[n]]++;
            }

            for (int n = 0, sum = 0; n < count; n++)
            {
                (blockEnd[n], sum) = (sum, sum + blockEnd[n]); // each node's start, for now
            }

            // Siblings sort by name; ranking the distinct names once turns every comparison into an int compare.
            int[] rank = NameRanks(frameNames);
            var children = new int[Math.Max(count - 1, 0)];
            var keys = new int[children.Length];
            for (int n = 1; n < count; n++)
            {
                int slot = blockEnd[parents[n]]++; // start advances to the end
                children[slot] = n;
                keys[slot] = rank[frames[n]];
            }

            for (int n = 0; n < count; n++)
            {
                int start = n == 0 ? 0 : blockEnd[n - 1];
                if (blockEnd[n] - start > 1)
                {
                    Array.Sort(keys, children, start, blockEnd[n] - start);
                }
            }

            keys = [];

            // Pre-order renumbering with an explicit stack of (old node, new parent): stacks can be thousands
            // of frames deep.
            var nodeFrames = new int[count];
            var newParents = new int[count];
            var depths = new int[count];
            var newSelf = new long[count];
            var pending = new GrowableArray<long>(1024);
            pending.Add(-1L & 0xFFFF_FFFF); // the root: old 0, no parent
            int next = 0;
            while (pending.Count > 0)
            {
                long entry = pending.AsSpan()[^1];
                pending.SetCount(pending.Count - 1);
                int old = (int)(entry >>> 32);
                int parent = (int)entry;
                int index = next++;
                nodeFrames[index] = frames[old];
                newParents[index] = parent;
                depths[index] = parent < 0 ? 0 : depths[parent] + 1;
                newSelf[index] = self[old];
                for (int c = blockEnd[old] - 1, start = old == 0 ? 0 : blockEnd[old - 1]; c >= start; c--)
                {
                    pending.Add(((long)children[c] << 32) | (uint)index);
                }
            }

            (long[] totals, int[] ends) = FlameTree.Accumulate(newParents, newSelf);

            return new FlameTree(
                stacks.SampleType, stacks.Frames.Granularity, stacks.Frames.Names.ToArray(), stacks.Frames.Files.ToArray(), nodeFrames, newParents, depths, ends, totals, newSelf,
                stacks.AbsoluteTotal);
        }

        /// <summary>Each name's place among the names sorted ordinally: siblings compare by it as ints.</summary>
        internal static int[] NameRanks(ReadOnlySpan<string> names)
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
