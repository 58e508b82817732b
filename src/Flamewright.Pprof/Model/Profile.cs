namespace Flamewright.Pprof.Model;

/// <summary>
/// A decoded, validated profile (github.com/google/pprof <c>profile.proto</c>). Ids are resolved: samples,
/// locations and lines refer to each other by array index. Samples with the same locations share one stack.
/// </summary>
public sealed class Profile
{
    private readonly ValueType[] _sampleTypes;
    private readonly Mapping[] _mappings;
    private readonly Location[] _locations;
    private readonly Line[] _lines;
    private readonly Function[] _functions;
    private readonly string[] _stringTable;
    private readonly string[] _comments;
    private readonly StackTable _stacks;
    private readonly int[] _sampleStacks;
    private readonly long[] _sampleValues;
    private readonly int[]? _sampleLabelStarts; // null when no sample has labels
    private readonly Label[] _labels;

    internal Profile(ProfileParts parts)
    {
        _sampleTypes = parts.SampleTypes;
        _mappings = parts.Mappings;
        _locations = parts.Locations;
        _lines = parts.Lines;
        _functions = parts.Functions;
        _stringTable = parts.StringTable;
        _comments = parts.Comments;
        _stacks = parts.Stacks;
        _sampleStacks = parts.SampleStacks;
        _sampleValues = parts.SampleValues;
        _sampleLabelStarts = parts.SampleLabelStarts;
        _labels = parts.Labels;
        SampleCount = parts.SampleCount;
        DecodedBytes = parts.DecodedBytes;
        HeldBytes = parts.HeldBytes < 0 ? parts.DecodedBytes : parts.HeldBytes;
        PeriodType = parts.PeriodType;
        Period = parts.Period;
        TimeNanos = parts.TimeNanos;
        DurationNanos = parts.DurationNanos;
        DropFrames = parts.DropFrames;
        KeepFrames = parts.KeepFrames;
        DefaultSampleType = parts.DefaultSampleType;
        DocUrl = parts.DocUrl;
    }

    public ReadOnlySpan<ValueType> SampleTypes => _sampleTypes;

    public ReadOnlySpan<Mapping> Mappings => _mappings;

    public ReadOnlySpan<Location> Locations => _locations;

    /// <summary>The lines of all locations; see <see cref="Location.FirstLine"/>.</summary>
    public ReadOnlySpan<Line> Lines => _lines;

    public ReadOnlySpan<Function> Functions => _functions;

    public ReadOnlySpan<string> StringTable => _stringTable;

    public ReadOnlySpan<string> Comments => _comments;

    /// <summary>The period's type; <c>null</c> when the profile has none.</summary>
    public ValueType? PeriodType { get; }

    public long Period { get; }

    public long TimeNanos { get; }

    public long DurationNanos { get; }

    /// <summary>Regular expression of frames to drop, or the empty string.</summary>
    public string DropFrames { get; }

    /// <summary>Regular expression of frames to keep, or the empty string.</summary>
    public string KeepFrames { get; }

    /// <summary>The sample type a viewer shows by default, or the empty string when the profile names none.</summary>
    public string DefaultSampleType { get; }

    public string DocUrl { get; }

    /// <summary>
    /// What decoding allocated for this model, arrays it outgrew included (<see cref="PprofLimits.MaxModelBytes"/>
    /// counts the same). 0 for a built profile.
    /// </summary>
    public long DecodedBytes { get; }

    /// <summary>
    /// The memory the profile holds, for caches to weigh it by: its model and, when decoded from pprof, the
    /// decompressed bytes its stacks are slices of. 0 for a built profile.
    /// </summary>
    public long HeldBytes { get; }

    public int SampleCount { get; }

    /// <summary>How many distinct location sequences the samples have.</summary>
    public int StackCount => _stacks.Count;

    public Sample GetSample(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, SampleCount);
        int stack = _sampleStacks[index];
        return new Sample(stack, _stacks.Read(stack), ValuesOf(index), LabelsOf(index));
    }

    /// <summary>One sample's values, one per sample type, without reading its stack.</summary>
    internal ReadOnlySpan<long> ValuesOf(int sample) =>
        _sampleValues.AsSpan(sample * _sampleTypes.Length, _sampleTypes.Length);

    /// <summary>One sample's labels, without reading its stack.</summary>
    internal ReadOnlySpan<Label> LabelsOf(int sample) => _sampleLabelStarts is null
        ? default
        : _labels.AsSpan(_sampleLabelStarts[sample], _sampleLabelStarts[sample + 1] - _sampleLabelStarts[sample]);

    /// <summary>Every sample's labels, one after another.</summary>
    internal ReadOnlySpan<Label> AllLabels => _sampleLabelStarts is null ? default : _labels;

    /// <summary>The location indexes of a distinct stack, leaf first.</summary>
    public ReadOnlySpan<int> GetStack(int stackIndex) => _stacks.Read(stackIndex);

    /// <summary>Appends the location indexes of a distinct stack, leaf first, without allocating.</summary>
    internal void ReadStack(int stackIndex, ref GrowableArray<int> into) => _stacks.Read(stackIndex, ref into);

    /// <summary>How many locations a distinct stack has.</summary>
    internal int StackDepth(int stackIndex) => _stacks.Depth(stackIndex);

    /// <summary>Writes the location indexes of a distinct stack, root first, into a span <see cref="StackDepth"/> long.</summary>
    internal void ReadStackRootFirst(int stackIndex, Span<int> into) => _stacks.ReadRootFirst(stackIndex, into);

    /// <summary>Each sample's stack index (parallel to the samples).</summary>
    internal ReadOnlySpan<int> SampleStacks => _sampleStacks.AsSpan(0, SampleCount);

    /// <summary>All sample values, <see cref="SampleTypes"/>.Length per sample.</summary>
    internal ReadOnlySpan<long> SampleValues => _sampleValues.AsSpan(0, SampleCount * _sampleTypes.Length);

    /// <summary>The sum of one sample type's values over all samples.</summary>
    public long Total(int sampleTypeIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sampleTypeIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sampleTypeIndex, _sampleTypes.Length);
        long total = 0;
        ReadOnlySpan<long> values = SampleValues;
        for (int i = sampleTypeIndex; i < values.Length; i += _sampleTypes.Length)
        {
            total += values[i];
        }

        return total;
    }

    /// <summary>
    /// The sample type shown when none is asked for, chosen as <c>go tool pprof</c> does: the type named by
    /// <see cref="DefaultSampleType"/> when there is one, else the last sample type.
    /// </summary>
    public int DefaultSampleTypeIndex
    {
        get
        {
            if (_sampleTypes.Length == 0)
            {
                return PprofFormatException.Throw<int>("profile has no sample types");
            }

            if (DefaultSampleType.Length > 0)
            {
                int named = Array.FindIndex(_sampleTypes, t => t.Type == DefaultSampleType);
                if (named >= 0)
                {
                    return named;
                }
            }

            return _sampleTypes.Length - 1;
        }
    }

    /// <summary>
    /// Resolves a sample type given by name (<c>inuse_space</c>) or by index (<c>3</c>); <c>null</c> or empty
    /// means <see cref="DefaultSampleTypeIndex"/>.
    /// </summary>
    public int ResolveSampleType(string? nameOrIndex)
    {
        if (string.IsNullOrEmpty(nameOrIndex))
        {
            return DefaultSampleTypeIndex;
        }

        int named = Array.FindIndex(_sampleTypes, t => t.Type == nameOrIndex);
        if (named >= 0)
        {
            return named;
        }

        if (int.TryParse(nameOrIndex, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index)
            && index < _sampleTypes.Length)
        {
            return index;
        }

        string known = _sampleTypes.Length == 0
            ? "it has none"
            : "it has " + string.Join(", ", _sampleTypes.Select((t, i) => $"{i}={t.Type}"));
        return PprofFormatException.Throw<int>($"sample type '{nameOrIndex}' not found: {known}");
    }
}

/// <summary>The arrays a <see cref="Profile"/> is made of, filled by the decoder or the builder.</summary>
internal sealed class ProfileParts
{
    public ValueType[] SampleTypes { get; set; } = [];
    public Mapping[] Mappings { get; set; } = [];
    public Location[] Locations { get; set; } = [];
    public Line[] Lines { get; set; } = [];
    public Function[] Functions { get; set; } = [];
    public string[] StringTable { get; set; } = [""];
    public string[] Comments { get; set; } = [];
    public StackTable Stacks { get; set; } = new();
    public int[] SampleStacks { get; set; } = [];
    public long[] SampleValues { get; set; } = [];
    public int[]? SampleLabelStarts { get; set; }
    public Label[] Labels { get; set; } = [];
    public int SampleCount { get; set; }
    public long DecodedBytes { get; set; }

    /// <summary>The memory the profile holds, when more than <see cref="DecodedBytes"/>; -1: the same.</summary>
    public long HeldBytes { get; set; } = -1;
    public ValueType? PeriodType { get; set; }
    public long Period { get; set; }
    public long TimeNanos { get; set; }
    public long DurationNanos { get; set; }
    public string DropFrames { get; set; } = "";
    public string KeepFrames { get; set; } = "";
    public string DefaultSampleType { get; set; } = "";
    public string DocUrl { get; set; } = "";
}
