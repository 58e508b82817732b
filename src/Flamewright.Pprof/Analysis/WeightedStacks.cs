using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// One or more profiles reduced to what every analysis needs: their distinct stacks as frame ids and, per
/// stack, the summed value of the chosen sample type. Several profiles (instances of a service) merge here.
/// </summary>
internal sealed class WeightedStacks
{
    private WeightedStacks(FlameOptions options, FrameTable frames, ValueType sampleType, Part[] parts, long total, long absoluteTotal)
    {
        Options = options;
        Frames = frames;
        SampleType = sampleType;
        Parts = parts;
        Total = total;
        AbsoluteTotal = absoluteTotal;
    }

    /// <summary>The options the stacks were weighed with, limits included.</summary>
    public FlameOptions Options { get; }

    public FrameTable Frames { get; }

    public ValueType SampleType { get; }

    public Part[] Parts { get; }

    /// <summary>
    /// The sum of the chosen values over the samples that <see cref="FlameOptions.Focus"/> and
    /// <see cref="FlameOptions.Ignore"/> keep (all samples, when neither is set).
    /// </summary>
    public long Total { get; }

    /// <summary>
    /// The sum of absolute sample values over all samples, kept or not: what <c>go tool pprof</c> takes as 100%.
    /// pprof computes its total before it applies <c>-focus</c> and <c>-ignore</c> (unless asked for
    /// <c>-relative_percentages</c>), so a focused table still gives each function's share of the whole profile.
    /// </summary>
    public long AbsoluteTotal { get; }

    public static WeightedStacks Build(IReadOnlyList<Profile> profiles, FlameOptions options)
    {
        options.Validate();
        int[] typeIndexes = SampleTypeSelection.Resolve(profiles, options.SampleType);
        return Build(profiles, options, typeIndexes, StackFilter.Create(options));
    }

    /// <summary>
    /// Weighs <paramref name="profiles"/> by the sample type at <paramref name="typeIndexes"/> (one per profile, as
    /// <see cref="SampleTypeSelection"/> resolves them) and keeps the stacks <paramref name="filter"/> keeps: for
    /// a caller that weighs several selections alike, such as the two sides of a <see cref="FlameDiff"/>.
    /// The caller has validated <paramref name="options"/>.
    /// </summary>
    public static WeightedStacks Build(IReadOnlyList<Profile> profiles, FlameOptions options, int[] typeIndexes, StackFilter? filter, FrameTable? frames = null)
    {
        frames ??= new FrameTable(options.Granularity);
        TagFilter? tags = TagFilter.Create(options, profiles);
        string? split = string.IsNullOrEmpty(options.TagSplit) ? null : options.TagSplit;
        var parts = new Part[profiles.Count];
        long total = 0, absolute = 0;
        for (int p = 0; p < profiles.Count; p++)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            Profile profile = profiles[p];
            int typeIndex = typeIndexes[p];
            int stride = profile.SampleTypes.Length;
            var stackValues = new long[profile.StackCount];
            var stackUsed = new bool[profile.StackCount];
            ReadOnlySpan<int> sampleStacks = profile.SampleStacks;
            ReadOnlySpan<long> values = profile.SampleValues;
            bool[]? sampleKept = tags is null ? null : new bool[sampleStacks.Length];
            long profileTotal = 0;
            for (int s = 0; s < sampleStacks.Length; s++)
            {
                long value = values[s * stride + typeIndex];
                absolute += Magnitude.Abs(value);
                if (sampleKept is not null)
                {
                    if ((s & 4095) == 0)
                    {
                        options.Cancellation.ThrowIfCancellationRequested();
                    }

                    if (!tags!.Keeps(profile.LabelsOf(s)))
                    {
                        continue;
                    }

                    sampleKept[s] = true;
                }

                stackValues[sampleStacks[s]] += value;
                stackUsed[sampleStacks[s]] |= value != 0;
                profileTotal += value;
            }

            total += filter is null ? profileTotal : filter.Apply(profile, stackValues, stackUsed);
            LocationFrames locationFrames = frames.FramesOf(profile);
            parts[p] = split is null
                ? new Part(profile, locationFrames, stackValues, stackUsed, sampleKept)
                : SplitPart(profile, locationFrames, stackUsed, sampleKept, typeIndex, split, frames);
        }

        // No profile to weigh: a first look whose inputs are all digests (StackView) names its sample type itself.
        ValueType sampleType = profiles.Count == 0 ? new ValueType("", "") : profiles[0].SampleTypes[typeIndexes[0]];
        return new WeightedStacks(options, frames, sampleType, parts, total, absolute);
    }

    /// <summary>
    /// A profile's kept samples as stacks under one more root frame, the sample's values of the label key
    /// <paramref name="key"/> (<see cref="FlameOptions.TagSplit"/>): a stack whose samples carry two values becomes two.
    /// </summary>
    private static Part SplitPart(Profile profile, LocationFrames locationFrames, bool[] stackUsed, bool[]? sampleKept, int typeIndex, string key, FrameTable frames)
    {
        int stride = profile.SampleTypes.Length;
        ReadOnlySpan<int> sampleStacks = profile.SampleStacks;
        ReadOnlySpan<long> values = profile.SampleValues;
        var splitIndexes = new Dictionary<(int Stack, int Frame), int>();
        var splitStacks = new GrowableArray<int>(Math.Max(16, profile.StackCount));
        var splitFrames = new GrowableArray<int>(Math.Max(16, profile.StackCount));
        var splitValues = new GrowableArray<long>(Math.Max(16, profile.StackCount));
        var splitUsed = new GrowableArray<bool>(Math.Max(16, profile.StackCount));
        var frameOfText = new Dictionary<string, int>(StringComparer.Ordinal);
        int unlabelled = frames.Intern(UnlabelledName(key));
        for (int s = 0; s < sampleStacks.Length; s++)
        {
            int stack = sampleStacks[s];
            if (!stackUsed[stack] || (sampleKept is not null && !sampleKept[s]))
            {
                continue;
            }

            string? text = SplitValue(profile.LabelsOf(s), key);
            int frame = unlabelled;
            if (text is not null && !frameOfText.TryGetValue(text, out frame))
            {
                frame = frames.Intern(key + "=" + text);
                frameOfText.Add(text, frame);
            }

            if (!splitIndexes.TryGetValue((stack, frame), out int index))
            {
                index = splitStacks.Count;
                splitIndexes.Add((stack, frame), index);
                splitStacks.Add(stack);
                splitFrames.Add(frame);
                splitValues.Add(0);
                splitUsed.Add(false);
            }

            long value = values[s * stride + typeIndex];
            splitValues.AsSpan()[index] += value;
            splitUsed.AsSpan()[index] |= value != 0;
        }

        return new Part(profile, locationFrames, splitValues.ToArray(), splitUsed.ToArray(), sampleKept)
        {
            SplitStacks = splitStacks.ToArray(),
            SplitFrames = splitFrames.ToArray(),
        };
    }

    /// <summary>The root frame of the samples without the key when a graph is split by it.</summary>
    public static string UnlabelledName(string key) => "(no " + key + ")";

    /// <summary>A sample's values of <paramref name="key"/>, strings first then numbers, joined by commas as pprof joins them; <c>null</c> when it has none.</summary>
    private static string? SplitValue(ReadOnlySpan<Label> labels, string key)
    {
        string? text = null;
        foreach (Label label in labels)
        {
            if (label.Key == key && label.IsString)
            {
                text = text is null ? label.Str : text + "," + label.Str;
            }
        }

        foreach (Label label in labels)
        {
            if (label.Key == key && !label.IsString)
            {
                // A number without a unit stays a plain integer, as pprof prints it here (a heap profile's bytes=4096).
                string number = label.NumUnit is { Length: > 0 } ? SampleLabels.NumberOf(label) : label.Num.ToString(System.Globalization.CultureInfo.InvariantCulture);
                text = text is null ? number : text + "," + number;
            }
        }

        return text;
    }

    /// <summary>A sample <see cref="ForEachKeptSample"/> visits: its part (profile) and the part's index, its index there and its value.</summary>
    internal delegate void KeptSample(Part part, int partIndex, int sample, long value);

    /// <summary>
    /// Weighs <paramref name="profiles"/> as <see cref="Build(IReadOnlyList{Profile}, FlameOptions)"/> does and visits,
    /// one sample at a time, every sample worth something that focus and ignore keep: for analyses of samples rather
    /// than stacks (their labels). Without focus and ignore a sample counts whatever its stack's sum, as pprof prints
    /// each sample of a diff profile.
    /// </summary>
    internal static WeightedStacks ForEachKeptSample(IReadOnlyList<Profile> profiles, FlameOptions options, KeptSample visit)
    {
        options.Validate();
        int[] typeIndexes = SampleTypeSelection.Resolve(profiles, options.SampleType);
        // Label analyses read samples, not stacks: a split would only rename their stacks.
        options = options with { TagSplit = null };
        WeightedStacks stacks = Build(profiles, options, typeIndexes, StackFilter.Create(options));
        bool filtered = options.Focus is not null || options.Ignore is not null;
        for (int p = 0; p < stacks.Parts.Length; p++)
        {
            Part part = stacks.Parts[p];
            int stride = part.Profile.SampleTypes.Length;
            ReadOnlySpan<int> sampleStacks = part.Profile.SampleStacks;
            ReadOnlySpan<long> values = part.Profile.SampleValues;
            for (int s = 0; s < sampleStacks.Length; s++)
            {
                if ((s & 4095) == 0)
                {
                    options.Cancellation.ThrowIfCancellationRequested();
                }

                long value = values[(s * stride) + typeIndexes[p]];
                if (value != 0 && (!filtered || part.StackUsed[sampleStacks[s]]) && (part.SampleKept is null || part.SampleKept[s]))
                {
                    visit(part, p, s, value);
                }
            }
        }

        return stacks;
    }

    /// <summary>Every stack that counts (see <see cref="Part.StackUsed"/>), as root-first frames and value.</summary>
    public StackEnumerator GetEnumerator() => new(Parts, Options);

    /// <summary>Walks the used stacks of every part without allocating; frames are valid until the next move.</summary>
    internal ref struct StackEnumerator
    {
        /// <summary>Cancellation is checked once per 4,096 stacks: a few microseconds of work apart.</summary>
        private const int CancellationCheckMask = 4095;

        private readonly Part[] _parts;
        private readonly FlameOptions _limits;
        private long _framesSoFar;
        private GrowableArray<int> _frames = new(128);
        private GrowableArray<int> _locations = new(64);
        private int _part;
        private int _stack = -1;

        public StackEnumerator(Part[] parts, FlameOptions limits)
        {
            _parts = parts;
            _limits = limits;
        }

        public readonly WeightedStack Current => new(_frames.AsSpan(), _parts[_part].StackValues[_stack]);

        public bool MoveNext()
        {
            while (_part < _parts.Length)
            {
                Part part = _parts[_part];
                while (++_stack < part.StackValues.Length)
                {
                    if ((_stack & CancellationCheckMask) == 0)
                    {
                        _limits.Cancellation.ThrowIfCancellationRequested();
                    }

                    if (part.StackUsed[_stack])
                    {
                        part.FramesRootFirst(_stack, ref _frames, ref _locations, _limits.MaxStackFrames);
                        CountFrames(ref _framesSoFar, _frames.Count, _limits.MaxFrames);
                        return true;
                    }
                }

                _part++;
                _stack = -1;
            }

            return false;
        }
    }

    /// <summary>Adds a stack's frames to those expanded so far, failing past <paramref name="maxFrames"/> in all (MaxFrames).</summary>
    internal static void CountFrames(ref long soFar, int frames, long maxFrames)
    {
        soFar += frames;
        if (soFar > maxFrames)
        {
            PprofFormatException.Throw($"the stacks expand to more than {maxFrames} frames in all (MaxFrames)");
        }
    }

    /// <summary>
    /// Appends a location's frames (<paramref name="innermostFirst"/>, as <see cref="LocationFrames"/> holds them) to a
    /// stack's frames root first, failing past <paramref name="maxFrames"/> for the stack (MaxStackFrames).
    /// </summary>
    internal static void AddRootFirst(ref GrowableArray<int> frames, ReadOnlySpan<int> innermostFirst, int stack, int maxFrames)
    {
        if (frames.Count + innermostFirst.Length > maxFrames)
        {
            PprofFormatException.Throw($"stack {stack} of a profile expands to more than {maxFrames} frames (MaxStackFrames)");
        }

        for (int f = innermostFirst.Length - 1; f >= 0; f--)
        {
            frames.Add(innermostFirst[f]);
        }
    }

    /// <summary>One stack's frames, root first, and its summed value.</summary>
    internal readonly ref struct WeightedStack(ReadOnlySpan<int> frames, long value)
    {
        public ReadOnlySpan<int> Frames { get; } = frames;

        public long Value { get; } = value;

        public void Deconstruct(out ReadOnlySpan<int> frames, out long value)
        {
            frames = Frames;
            value = Value;
        }
    }

    /// <summary>
    /// One profile's stacks, indexed by the profile's stack index. A stack is <see cref="StackUsed"/> when one of
    /// its samples has a non-zero value and the focus and ignore filters keep it: like <c>go tool pprof</c>,
    /// analysis ignores samples worth nothing, so a heap site with nothing in use does not show up in an in-use
    /// graph.
    /// </summary>
    internal sealed record Part(Profile Profile, LocationFrames LocationFrames, long[] StackValues, bool[] StackUsed, bool[]? SampleKept)
    {
        /// <summary>
        /// When the graph is split by a label (<see cref="FlameOptions.TagSplit"/>), the profile's stack behind each of
        /// this part's stacks, and <see cref="SplitFrames"/> the frame of its label value; <c>null</c> otherwise, when
        /// this part's stacks are the profile's.
        /// </summary>
        public int[]? SplitStacks { get; init; }

        /// <summary>Per stack of a split part, the root frame that names its label value.</summary>
        public int[]? SplitFrames { get; init; }

        /// <summary>
        /// Writes the frames of a stack, root first, into <paramref name="frames"/>, failing past
        /// <paramref name="maxFrames"/>; <paramref name="locations"/> is scratch space for its location indexes.
        /// </summary>
        public void FramesRootFirst(int stack, ref GrowableArray<int> frames, ref GrowableArray<int> locations, int maxFrames)
        {
            frames.Clear();
            locations.Clear();
            if (SplitStacks is not null)
            {
                frames.Add(SplitFrames![stack]);
                stack = SplitStacks[stack];
            }

            Profile.ReadStack(stack, ref locations);
            ReadOnlySpan<int> leafFirst = locations.AsSpan();
            for (int l = leafFirst.Length - 1; l >= 0; l--)
            {
                AddRootFirst(ref frames, LocationFrames.Of(leafFirst[l]), stack, maxFrames);
            }
        }
    }
}
