using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// A first look (the whole graph's view at some width, and the top table) made straight from the stacks, without the
/// tree: equal to building the tree and cutting its view (<see cref="FlameView.Build"/>) and table, except for the
/// frames' node ids, which number the view's own frames (the root is 0). A graph draws a few thousand frames of a tree
/// that can hold millions of nodes; this finds them level by level, following only the stacks under a frame wide
/// enough to draw, and never holds more than the stacks' frames and one level's children (docs/digest.md).
/// </summary>
public static class StackView
{
    public static FirstLook Build(IReadOnlyList<Profile> profiles, FlameOptions options, int widthPixels) =>
        Build(WeightedStacks.Build(profiles, options), widthPixels);

    /// <summary>The frames of each stack read at first, root first: the levels below them are read again for the few stacks still followed.</summary>
    private const int FirstWindow = 16;

    internal static FirstLook Build(WeightedStacks stacks, int widthPixels, double minimumPixels = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(widthPixels, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumPixels);
        int used = 0;
        foreach (WeightedStacks.Part part in stacks.Parts)
        {
            used += part.StackUsed.AsSpan().Count(true);
        }

        // One pass over the stacks: the top table's sums, and per stack where to read it again, its depth, its value and
        // its first frames.
        var levels = new Levels(stacks, used);
        var sums = new TopTable.Sums(stacks.Frames.Count);
        var enumerator = stacks.GetEnumerator();
        while (enumerator.MoveNext())
        {
            (ReadOnlySpan<int> path, long value) = enumerator.Current;
            levels.Add(enumerator.Position, path, value);
            sums.Add(path, value);
        }

        TopTable top = sums.ToTable(stacks);
        return new FirstLook(levels.Cut(widthPixels, minimumPixels), top);
    }

    /// <summary>The stacks of a first look, cut level by level into the frames a graph draws.</summary>
    private sealed class Levels(WeightedStacks stacks, int count)
    {
        private readonly long[] _positions = new long[count]; // part << 32 | stack, to read a stack again
        private readonly int[] _depths = new int[count];
        private readonly long[] _values = new long[count];
        private readonly int[] _windowStarts = new int[count]; // where each followed stack's window of frames starts
        private GrowableArray<int> _window = new((int)Math.Min((long)count * FirstWindow, Math.Min(stacks.Options.MaxFrames, Array.MaxLength)));
        private int _windowBase; // the depth of the first frame of every window
        private int _windowSize = FirstWindow;
        private int _count;
        private long _rootTotal;

        public void Add((int Part, int Stack) position, ReadOnlySpan<int> path, long value)
        {
            int s = _count++;
            _positions[s] = ((long)position.Part << 32) | (uint)position.Stack;
            _depths[s] = path.Length;
            _values[s] = value;
            _windowStarts[s] = _window.Count;
            _window.AddRange(path[..Math.Min(path.Length, FirstWindow)]);
            _rootTotal += value;
        }

        /// <summary>The drawn frames, found level by level: a frame's children are looked at only when it is drawn.</summary>
        public FlameView Cut(int widthPixels, double minimumPixels)
        {
            Int128 scaledMinimum = (Int128)Math.Ceiling(minimumPixels * 1024);
            long rootMagnitude = Magnitude.Abs(_rootTotal);

            // The drawn frames in the order found (breadth first): frame id, parent, total, self, narrower children.
            var drawn = new Drawn();
            drawn.Add(-1, -1, _rootTotal);

            // The stacks still under a drawn frame, and that frame.
            var alive = new int[_count];
            var under = new int[_count];
            for (int s = 0; s < _count; s++)
            {
                alive[s] = s;
            }

            int aliveCount = _count;
            var slotOf = new int[_count];
            var children = new Dictionary<ulong, int>();
            var childTotals = new GrowableArray<long>(1024);
            var childKeys = new GrowableArray<ulong>(1024);
            var drawnOfSlot = new GrowableArray<int>(1024);
            for (int depth = 0; aliveCount > 0; depth++)
            {
                stacks.Options.Cancellation.ThrowIfCancellationRequested();
                if (depth >= _windowBase + _windowSize)
                {
                    ReadWindows(alive.AsSpan(0, aliveCount), depth);
                }

                children.Clear();
                childTotals.Clear();
                childKeys.Clear();
                ulong lastKey = ulong.MaxValue;
                int lastSlot = -1;
                int kept = 0;
                ReadOnlySpan<int> window = _window.AsSpan();
                for (int i = 0; i < aliveCount; i++)
                {
                    int s = alive[i];
                    if (_depths[s] == depth)
                    {
                        drawn.Selfs[under[i]] += _values[s];
                        continue;
                    }

                    ulong key = ((ulong)(uint)under[i] << 32) | (uint)window[_windowStarts[s] + depth - _windowBase];
                    if (key != lastKey)
                    {
                        if (!children.TryGetValue(key, out lastSlot))
                        {
                            lastSlot = childTotals.Count;
                            children.Add(key, lastSlot);
                            childTotals.Add(0);
                            childKeys.Add(key);
                        }

                        lastKey = key;
                    }

                    childTotals.AsSpan()[lastSlot] += _values[s];
                    alive[kept] = s;
                    slotOf[kept] = lastSlot;
                    kept++;
                }

                // Which children are drawn; the others join their parent's block of narrower frames.
                drawnOfSlot.Clear();
                for (int slot = 0; slot < childTotals.Count; slot++)
                {
                    ulong key = childKeys.AsSpan()[slot];
                    int parent = (int)(key >> 32);
                    long total = childTotals.AsSpan()[slot];
                    if (Wide(total, rootMagnitude, widthPixels, scaledMinimum))
                    {
                        drawnOfSlot.Add(drawn.Add((int)(uint)key, parent, total));
                    }
                    else
                    {
                        drawnOfSlot.Add(-1);
                        drawn.NarrowCounts[parent]++;
                        drawn.NarrowTotals[parent] += total;
                    }
                }

                aliveCount = 0;
                for (int i = 0; i < kept; i++)
                {
                    int frame = drawnOfSlot.AsSpan()[slotOf[i]];
                    if (frame >= 0)
                    {
                        alive[aliveCount] = alive[i];
                        under[aliveCount] = frame;
                        aliveCount++;
                    }
                }
            }

            return FlameView.OfDrawn(stacks, drawn.Frames, drawn.Parents, drawn.Totals, drawn.Selfs, drawn.NarrowCounts, drawn.NarrowTotals,
                rootMagnitude, widthPixels, scaledMinimum);
        }

        /// <summary>
        /// Reads the frames of the stacks still followed again, from <paramref name="depth"/> on, into windows twice as deep
        /// as the last ones: a stack that deep is read a few times at most.
        /// </summary>
        private void ReadWindows(ReadOnlySpan<int> alive, int depth)
        {
            _windowBase = depth;
            _windowSize *= 2;
            var window = new GrowableArray<int>(Math.Max(16, alive.Length * 4));
            var frames = new GrowableArray<int>(128);
            var locations = new GrowableArray<int>(64);
            foreach (int s in alive)
            {
                long position = _positions[s];
                stacks.Parts[(int)(position >> 32)].FramesRootFirst((int)position, ref frames, ref locations, stacks.Options.MaxStackFrames);
                _windowStarts[s] = window.Count;
                ReadOnlySpan<int> path = frames.AsSpan();
                window.AddRange(path[depth..Math.Min(path.Length, depth + _windowSize)]);
            }

            _window = window;
        }
    }

    /// <summary>The drawn frames of a first look as they are found.</summary>
    private sealed class Drawn
    {
        private GrowableArray<int> _frames = new(1024);
        private GrowableArray<int> _parents = new(1024);
        private GrowableArray<long> _totals = new(1024);
        private GrowableArray<long> _selfs = new(1024);
        private GrowableArray<int> _narrowCounts = new(1024);
        private GrowableArray<long> _narrowTotals = new(1024);

        public Span<int> Frames => _frames.AsSpan();

        public Span<int> Parents => _parents.AsSpan();

        public Span<long> Totals => _totals.AsSpan();

        public Span<long> Selfs => _selfs.AsSpan();

        public Span<int> NarrowCounts => _narrowCounts.AsSpan();

        public Span<long> NarrowTotals => _narrowTotals.AsSpan();

        /// <summary>Adds a drawn frame and returns its number.</summary>
        public int Add(int frame, int parent, long total)
        {
            _frames.Add(frame);
            _parents.Add(parent);
            _totals.Add(total);
            _selfs.Add(0);
            _narrowCounts.Add(0);
            _narrowTotals.Add(0);
            return _frames.Count - 1;
        }
    }

    private static bool Wide(long total, long rootMagnitude, int width, Int128 scaledMinimum) =>
        rootMagnitude == 0 || (Int128)Magnitude.Abs(total) * width * 1024 >= scaledMinimum * rootMagnitude;
}
