using System.Text;
using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>One stack and label set with the summed value of its samples: in a goroutine profile, how many goroutines wait there.</summary>
/// <param name="Value">The summed value of the samples (goroutines, for a goroutine profile).</param>
/// <param name="Frames">The stack's frames, leaf first, at the options' granularity (inlined calls expanded).</param>
/// <param name="Labels">The samples' labels (<c>pprof.Do</c>), sorted by key then value; a number with its unit.</param>
public sealed record StackGroup(long Value, IReadOnlyList<string> Frames, IReadOnlyList<KeyValuePair<string, string>> Labels);

/// <summary>
/// The samples of one or more profiles grouped by stack and labels, heaviest first: what <c>go tool pprof -traces</c>
/// prints one sample at a time, summed over samples (and instances) that share frames and labels. For a goroutine
/// profile this is "N goroutines are here", biggest group first. Focus and ignore apply as to a flame graph.
/// </summary>
public sealed class StackGroups
{
    private StackGroups(ValueType sampleType, long total, int groupCount, IReadOnlyList<StackGroup> groups)
    {
        SampleType = sampleType;
        Total = total;
        GroupCount = groupCount;
        Groups = groups;
    }

    public ValueType SampleType { get; }

    /// <summary>The sum of the values of every group: the samples with frames that focus and ignore keep.</summary>
    public long Total { get; }

    /// <summary>How many groups there are in all; <see cref="Groups"/> may hold only the heaviest.</summary>
    public int GroupCount { get; }

    /// <summary>Heaviest first (by absolute value); equal values in frame order, then label order.</summary>
    public IReadOnlyList<StackGroup> Groups { get; }

    /// <summary>Groups the samples of <paramref name="profiles"/>, keeping the <paramref name="limit"/> heaviest groups.</summary>
    public static StackGroups Build(IReadOnlyList<Profile> profiles, FlameOptions? options = null, int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        options ??= new FlameOptions();
        var sums = new Dictionary<string, (long Value, int Stack, int Part, int Sample)>(StringComparer.Ordinal);
        var frames = new GrowableArray<int>(128);
        var locations = new GrowableArray<int>(64);
        var key = new StringBuilder();
        long framesSoFar = 0;
        WeightedStacks stacks = WeightedStacks.ForEachKeptSample(profiles, options, (part, p, s, value) =>
        {
            int stack = part.Profile.SampleStacks[s];
            part.FramesRootFirst(stack, ref frames, ref locations, options.MaxStackFrames);
            if (frames.Count == 0)
            {
                // A sample without frames (threads the runtime started itself) is not a place anything waits at:
                // pprof -traces leaves it out too.
                return;
            }

            framesSoFar += frames.Count;
            if (framesSoFar > options.MaxFrames)
            {
                PprofFormatException.Throw($"the stacks expand to more than {options.MaxFrames} frames in all (MaxFrames)");
            }

            key.Clear();
            foreach (int frame in frames.AsSpan())
            {
                key.Append(frame).Append(',');
            }

            key.Append('|');
            foreach (KeyValuePair<string, string> label in SampleLabels.Text(part.Profile.LabelsOf(s)))
            {
                // Each part with its length before it, so that no two label sets give the same key.
                key.Append(label.Key.Length).Append(':').Append(label.Key).Append(label.Value.Length).Append(':').Append(label.Value);
            }

            string k = key.ToString();
            sums[k] = sums.TryGetValue(k, out var sum) ? (sum.Value + value, sum.Stack, sum.Part, sum.Sample) : (value, stack, p, s);
        });

        var groups = new List<StackGroup>(sums.Count);
        long total = 0;
        foreach ((long value, int stack, int p, int sample) in sums.Values)
        {
            if (value == 0)
            {
                continue;
            }

            total += value;
            WeightedStacks.Part part = stacks.Parts[p];
            part.FramesRootFirst(stack, ref frames, ref locations, options.MaxStackFrames);
            var names = new string[frames.Count];
            for (int f = 0; f < names.Length; f++)
            {
                names[f] = stacks.Frames[frames.AsSpan()[names.Length - 1 - f]];
            }

            groups.Add(new StackGroup(value, names, SampleLabels.Text(part.Profile.LabelsOf(sample))));
        }

        groups.Sort(Heaviest);
        return new StackGroups(stacks.SampleType, total, groups.Count, groups.Count > limit ? groups.GetRange(0, limit) : groups);
    }

    private static int Heaviest(StackGroup a, StackGroup b)
    {
        int byValue = Magnitude.Abs(b.Value).CompareTo(Magnitude.Abs(a.Value));
        if (byValue != 0)
        {
            return byValue;
        }

        for (int i = 0; i < Math.Min(a.Frames.Count, b.Frames.Count); i++)
        {
            int byFrame = string.CompareOrdinal(a.Frames[i], b.Frames[i]);
            if (byFrame != 0)
            {
                return byFrame;
            }
        }

        int byDepth = a.Frames.Count.CompareTo(b.Frames.Count);
        return byDepth != 0 ? byDepth : string.CompareOrdinal(string.Join('\n', a.Labels), string.Join('\n', b.Labels));
    }
}
