using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// Merges flame trees built with the same options (one per upload of a task) into the tree that building from all their
/// profiles at once gives: trees are tries of stacks, so the merged trie of the union of stacks is the merge of the
/// tries, node by node, with self values summed. The trees are pre-order with children sorted by name, so the merge is
/// one pass: children of a merged node are the union of the trees' children, in name order; a subtree only one tree has
/// is copied whole. A server merges the cached tree of each upload, so a selection that grew by one upload builds that
/// upload's tree and merges, instead of building everything again.
/// </summary>
public static class FlameTreeMerge
{
    /// <summary>The merged tree of <paramref name="trees"/>, which must share sample type and granularity.</summary>
    /// <exception cref="ArgumentException">No tree, or trees of different sample types or granularities.</exception>
    /// <exception cref="PprofFormatException">The merged tree would have more than <paramref name="maxNodes"/> nodes.</exception>
    public static FlameTree Merge(IReadOnlyList<FlameTree> trees, int maxNodes = FlameOptions.DefaultMaxNodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trees);
        if (trees.Count == 0)
        {
            throw new ArgumentException("no tree to merge", nameof(trees));
        }

        FlameTree first = trees[0];
        foreach (FlameTree tree in trees)
        {
            if (tree.SampleType != first.SampleType || tree.Granularity != first.Granularity)
            {
                throw new ArgumentException($"trees of {tree.SampleType}/{tree.Granularity} and {first.SampleType}/{first.Granularity} do not merge", nameof(trees));
            }
        }

        if (trees.Count == 1)
        {
            return first;
        }

        return new Merger(trees, maxNodes, cancellationToken).Run();
    }

    private sealed class Merger
    {
        private readonly IReadOnlyList<FlameTree> _trees;
        private readonly int _maxNodes;
        private readonly CancellationToken _cancellation;
        private readonly int[][] _frameIds; // per tree, its frame index → the merged tree's
        private readonly List<string> _names = [];
        private readonly List<string> _files = [];
        private GrowableArray<int> _frames;
        private GrowableArray<int> _parents;
        private GrowableArray<int> _depths;
        private GrowableArray<long> _selfs;

        // Nodes waiting to be numbered, last first: (merged parent, depth) and where their contributors start in _pool.
        private GrowableArray<Pending> _pending = new(256);

        // The (tree, node) pairs behind each pending node, as tree << 32 | node, stacked as _pending is.
        private GrowableArray<long> _pool = new(1024);
        private readonly List<(string Name, long Contributor)> _children = [];

        public Merger(IReadOnlyList<FlameTree> trees, int maxNodes, CancellationToken cancellation)
        {
            _trees = trees;
            _maxNodes = maxNodes;
            _cancellation = cancellation;
            int expected = Math.Min(trees.Max(t => t.Count) * 2, 1 << 22);
            _frames = new GrowableArray<int>(expected);
            _parents = new GrowableArray<int>(expected);
            _depths = new GrowableArray<int>(expected);
            _selfs = new GrowableArray<long>(expected);
            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            _frameIds = new int[trees.Count][];
            for (int t = 0; t < trees.Count; t++)
            {
                ReadOnlySpan<string> names = trees[t].FrameNames;
                ReadOnlySpan<string> files = trees[t].FrameFiles;
                int[] map = _frameIds[t] = new int[names.Length];
                for (int i = 0; i < names.Length; i++)
                {
                    if (!ids.TryGetValue(names[i], out int id))
                    {
                        id = _names.Count;
                        ids.Add(names[i], id);
                        _names.Add(names[i]);
                        _files.Add(files[i]);
                    }
                    else if (_files[id].Length == 0 && files[i].Length > 0)
                    {
                        _files[id] = files[i];
                    }

                    map[i] = id;
                }
            }
        }

        private readonly record struct Pending(int Parent, int Depth, int PoolStart, int PoolCount);

        public FlameTree Run()
        {
            // The root: every tree's root.
            for (int t = 0; t < _trees.Count; t++)
            {
                _pool.Add((long)t << 32);
            }

            _pending.Add(new Pending(-1, 0, 0, _trees.Count));
            while (_pending.Count > 0)
            {
                Pending next = _pending.AsSpan()[^1];
                _pending.SetCount(_pending.Count - 1);
                if (next.PoolCount == 1)
                {
                    long only = _pool.AsSpan()[next.PoolStart];
                    _pool.SetCount(next.PoolStart);
                    CopySubtree((int)(only >> 32), (int)only, next.Parent, next.Depth);
                    continue;
                }

                int index = AddNode(-1, next.Parent, next.Depth, 0);
                _children.Clear();
                ReadOnlySpan<long> contributors = _pool.AsSpan().Slice(next.PoolStart, next.PoolCount);
                long self = 0;
                int frame = -1;
                foreach (long contributor in contributors)
                {
                    FlameTree tree = _trees[(int)(contributor >> 32)];
                    int node = (int)contributor;
                    self += tree.SelfOf(node);
                    frame = node == 0 ? -1 : _frameIds[(int)(contributor >> 32)][tree.NodeFrames[node]];
                    int end = tree.SubtreeEnd(node);
                    for (int child = node + 1; child < end; child = tree.SubtreeEnd(child))
                    {
                        _children.Add((tree.NameOf(child), ((contributor >> 32) << 32) | (uint)child));
                    }
                }

                _frames.AsSpan()[index] = frame;
                _selfs.AsSpan()[index] = self;
                _pool.SetCount(next.PoolStart);
                // Children in name order; the same name from several trees is one child.
                _children.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                int groupEnd = _children.Count;
                // Pushed last first, so that the first name is numbered next.
                for (int i = _children.Count - 1; i >= 0; i--)
                {
                    if (i > 0 && _children[i - 1].Name == _children[i].Name)
                    {
                        continue;
                    }

                    int start = _pool.Count;
                    for (int j = i; j < groupEnd; j++)
                    {
                        _pool.Add(_children[j].Contributor);
                    }

                    _pending.Add(new Pending(index, next.Depth + 1, start, groupEnd - i));
                    groupEnd = i;
                }
            }

            return Finish();
        }

        /// <summary>A subtree only one tree has: copied in its pre-order, its frames renamed and its parents shifted.</summary>
        private void CopySubtree(int t, int node, int parent, int depth)
        {
            FlameTree tree = _trees[t];
            int[] map = _frameIds[t];
            int start = _frames.Count;
            int end = tree.SubtreeEnd(node);
            int baseDepth = tree.DepthOf(node);
            for (int m = node; m < end; m++)
            {
                int mergedParent = m == node ? parent : start + (tree.ParentOf(m) - node);
                AddNode(m == 0 ? -1 : map[tree.NodeFrames[m]], mergedParent, depth + (tree.DepthOf(m) - baseDepth), tree.SelfOf(m));
            }
        }

        private int AddNode(int frame, int parent, int depth, long self)
        {
            int index = _frames.Count;
            if (index >= _maxNodes)
            {
                PprofFormatException.Throw($"the flame tree would have more than {_maxNodes} nodes (MaxNodes)");
            }

            if ((index & 4095) == 0)
            {
                _cancellation.ThrowIfCancellationRequested();
            }

            _frames.Add(frame);
            _parents.Add(parent);
            _depths.Add(depth);
            _selfs.Add(self);
            return index;
        }

        private FlameTree Finish()
        {
            int count = _frames.Count;
            long[] selfs = _selfs.ToArray();
            int[] parents = _parents.ToArray();
            (long[] totals, int[] ends) = FlameTree.Accumulate(parents, selfs);
            FlameTree first = _trees[0];
            return new FlameTree(first.SampleType, first.Granularity, [.. _names], [.. _files], _frames.ToArray(), parents, _depths.ToArray(), ends, totals, selfs,
                _trees.Sum(t => t.AbsoluteTotal));
        }
    }
}
