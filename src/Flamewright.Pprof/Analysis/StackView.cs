using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>What a first look is cut from: a decoded profile, or a digest read for its stacks.</summary>
public readonly record struct StackInput
{
    public StackInput(Profile profile) => Profile = profile ?? throw new ArgumentNullException(nameof(profile));

    public StackInput(DigestStacks digest) => Digest = digest ?? throw new ArgumentNullException(nameof(digest));

    public Profile? Profile { get; }

    public DigestStacks? Digest { get; }
}

/// <summary>
/// A first look (the whole graph's view at some width, and the top table) made straight from the stacks, without the
/// tree: equal to building the tree and cutting its view (<see cref="FlameView.Build"/>) and table, except for the
/// frames' node ids, which number the view's own frames (the root is 0). A graph draws a few thousand frames of a tree
/// that can hold millions of nodes; this finds them level by level, following only the stacks under a frame wide
/// enough to draw, and holds each stack's first frames and one level's children, never a node per frame (docs/digest.md).
/// </summary>
public static class StackView
{
    /// <summary>The frames of each stack read at first, root first: the levels below them are read again for the few stacks still followed.</summary>
    private const int FirstWindow = 16;

    public static FirstLook Build(IReadOnlyList<Profile> profiles, FlameOptions options, int widthPixels)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        return Build([.. profiles.Select(p => new StackInput(p))], options, widthPixels);
    }

    /// <summary>
    /// The first look at <paramref name="inputs"/> merged, each a decoded profile or a digest read for stacks
    /// (<see cref="ProfileDigest.ReadStacks"/>), which only unfiltered options can use.
    /// </summary>
    /// <exception cref="PprofFormatException">The sample type is unknown, the profiles do not merge, or a limit is passed.</exception>
    /// <exception cref="ArgumentException">A digest input with focus, ignore or label options.</exception>
    public static FirstLook Build(IReadOnlyList<StackInput> inputs, FlameOptions options, int widthPixels, double minimumPixels = 1)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(widthPixels, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumPixels);
        options.Validate();
        if (inputs.Count == 0)
        {
            throw new ArgumentException("a first look needs at least one profile", nameof(inputs));
        }

        bool filtered = options.Focus is not null || options.Ignore is not null || options.TagFocus is not null || options.TagIgnore is not null
            || !string.IsNullOrEmpty(options.TagSplit);
        if (filtered && inputs.Any(i => i.Digest is not null))
        {
            throw new ArgumentException("a digest read for stacks has no samples to filter: pass its profile", nameof(inputs));
        }

        Profile[] named = [.. inputs.Select(i => i.Profile ?? i.Digest!.Names)];
        int[] typeIndexes = SampleTypeSelection.Resolve(named, options.SampleType);
        var frames = new FrameTable(options.Granularity);
        int[] decoded = [.. Enumerable.Range(0, inputs.Count).Where(i => inputs[i].Profile is not null)];
        WeightedStacks weighed = WeightedStacks.Build(
            [.. decoded.Select(i => inputs[i].Profile!)], options, [.. decoded.Select(i => typeIndexes[i])], StackFilter.Create(options), frames);
        var sources = new List<Source>();
        long total = weighed.Total, absoluteTotal = weighed.AbsoluteTotal;
        int nextProfilePart = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Digest is DigestStacks digest)
            {
                sources.Add(new DigestSource(digest, typeIndexes[i], frames.FramesOf(digest.Names), options));
                total += digest.Total(typeIndexes[i]);
                absoluteTotal += digest.AbsoluteTotals[typeIndexes[i]];
            }
            else
            {
                sources.Add(new ProfileSource(weighed.Parts[nextProfilePart++], options));
            }
        }

        int count = 0;
        foreach (Source source in sources)
        {
            source.FirstId = count;
            count += source.Count;
        }

        // One pass over the stacks: the top table's sums, and per stack its depth, its value and its first frames.
        var levels = new Levels(sources, count, options);
        var sums = new TopTable.Sums(frames.Count);
        foreach (Source source in sources)
        {
            source.ForEach(null, (id, path, value) =>
            {
                levels.Add(id, path, value);
                sums.Add(path, value);
            });
        }

        TopTable top = sums.ToTable(frames, named[0].SampleTypes[typeIndexes[0]], total, absoluteTotal);
        return new FirstLook(levels.Cut(frames, widthPixels, minimumPixels), top);
    }

    /// <summary>One input's stacks that count, numbered from <see cref="FirstId"/> on in the order they are read.</summary>
    private abstract class Source
    {
        public int FirstId { get; set; }

        public abstract int Count { get; }

        /// <summary>Visits the stacks in order; with <paramref name="only"/>, those it marks (by number less <see cref="FirstId"/>).</summary>
        public abstract void ForEach(bool[]? only, StackVisitor visit);
    }

    /// <summary>A decoded profile's stacks, as <see cref="WeightedStacks"/> weighed (and filtered) them.</summary>
    private sealed class ProfileSource : Source
    {
        private readonly WeightedStacks.Part _part;
        private readonly FlameOptions _limits;
        private readonly int[] _stacks; // the part's stacks that count

        public ProfileSource(WeightedStacks.Part part, FlameOptions limits)
        {
            _part = part;
            _limits = limits;
            var stacks = new List<int>();
            for (int s = 0; s < part.StackUsed.Length; s++)
            {
                if (part.StackUsed[s])
                {
                    stacks.Add(s);
                }
            }

            _stacks = [.. stacks];
        }

        public override int Count => _stacks.Length;

        public override void ForEach(bool[]? only, StackVisitor visit)
        {
            var frames = new GrowableArray<int>(128);
            var locations = new GrowableArray<int>(64);
            long framesSoFar = 0;
            for (int i = 0; i < _stacks.Length; i++)
            {
                if ((i & 4095) == 0)
                {
                    _limits.Cancellation.ThrowIfCancellationRequested();
                }

                if (only is not null && !only[i])
                {
                    continue;
                }

                _part.FramesRootFirst(_stacks[i], ref frames, ref locations, _limits.MaxStackFrames);
                WeightedStacks.CountFrames(ref framesSoFar, frames.Count, _limits.MaxFrames);

                visit(FirstId + i, frames.AsSpan(), _part.StackValues[_stacks[i]]);
            }
        }
    }

    /// <summary>A digest's stacks, streamed as stored.</summary>
    private sealed class DigestSource(DigestStacks digest, int typeIndex, LocationFrames locationFrames, FlameOptions limits) : Source
    {
        public override int Count { get; } = digest.UsedCount(typeIndex);

        public override void ForEach(bool[]? only, StackVisitor visit) => digest.ForEach(typeIndex, locationFrames, limits, FirstId, only, visit);
    }

    /// <summary>The stacks of a first look, cut level by level into the frames a graph draws.</summary>
    private sealed class Levels(List<Source> sources, int count, FlameOptions options)
    {
        private readonly int[] _depths = new int[count];
        private readonly long[] _values = new long[count];
        private readonly int[] _windowStarts = new int[count]; // where each followed stack's window of frames starts
        private GrowableArray<int> _window = new((int)Math.Min((long)count * FirstWindow, Math.Min(options.MaxFrames, Array.MaxLength)));
        private int _windowBase; // the depth of the first frame of every window
        private int _windowSize = FirstWindow;
        private long _rootTotal;

        /// <summary>Adds stack <paramref name="s"/>; stacks are added in the order of their numbers.</summary>
        public void Add(int s, ReadOnlySpan<int> path, long value)
        {
            _depths[s] = path.Length;
            _values[s] = value;
            _windowStarts[s] = _window.Count;
            _window.AddRange(path[..Math.Min(path.Length, FirstWindow)]);
            _rootTotal += value;
        }

        /// <summary>The drawn frames, found level by level: a frame's children are looked at only when it is drawn.</summary>
        public FlameView Cut(FrameTable frames, int widthPixels, double minimumPixels)
        {
            Int128 scaledMinimum = FlameView.ScaledMinimumOf(minimumPixels);
            long rootMagnitude = Magnitude.Abs(_rootTotal);

            // The drawn frames in the order found (breadth first): frame id, parent, total, self, narrower children.
            var drawn = new Drawn();
            drawn.Add(-1, -1, _rootTotal);

            // The stacks still under a drawn frame, and that frame.
            var alive = new int[_depths.Length];
            var under = new int[_depths.Length];
            for (int s = 0; s < _depths.Length; s++)
            {
                alive[s] = s;
            }

            int aliveCount = _depths.Length;
            var slotOf = new int[_depths.Length];
            var children = new Dictionary<ulong, int>();
            var childTotals = new GrowableArray<long>(1024);
            var childKeys = new GrowableArray<ulong>(1024);
            var drawnOfSlot = new GrowableArray<int>(1024);
            for (int depth = 0; aliveCount > 0; depth++)
            {
                options.Cancellation.ThrowIfCancellationRequested();
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
                    if (FlameView.Wide(total, rootMagnitude, widthPixels, scaledMinimum))
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

            return FlameView.OfDrawn(frames, drawn.Frames, drawn.Parents, drawn.Totals, drawn.Selfs, drawn.NarrowCounts, drawn.NarrowTotals,
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
            var followed = new bool[_depths.Length];
            foreach (int s in alive)
            {
                followed[s] = true;
            }

            int size = _windowSize;
            foreach (Source source in sources)
            {
                if (!followed.AsSpan(source.FirstId, source.Count).Contains(true))
                {
                    continue;
                }

                source.ForEach(followed[source.FirstId..(source.FirstId + source.Count)], (s, path, _) =>
                {
                    _windowStarts[s] = window.Count;
                    window.AddRange(path[depth..Math.Min(path.Length, depth + size)]);
                });
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
}
