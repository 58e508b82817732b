namespace Flamewright.Pprof.Model;

/// <summary>
/// Builds a <see cref="Profile"/> in memory: for merging, for generators and for tests. Functions and locations
/// with the same content are added once; the returned indexes are what samples and lines refer to.
/// </summary>
public sealed class ProfileBuilder
{
    private readonly ValueType[] _sampleTypes;
    private readonly Dictionary<Mapping, int> _mappingIndexes = [];
    private readonly Dictionary<Function, int> _functionIndexes = [];
    private readonly Dictionary<LocationKey, int> _locationIndexes = [];
    private readonly List<string> _comments = [];
    private readonly StackTable _stacks = new();
    private GrowableArray<Mapping> _mappings = new(4);
    private GrowableArray<Function> _functions = new(64);
    private GrowableArray<Location> _locations = new(64);
    private GrowableArray<Line> _lines = new(64);
    private GrowableArray<int> _sampleStacks = new(256);
    private GrowableArray<long> _values = new(256);
    private GrowableArray<int> _labelStarts = new(0);
    private GrowableArray<Label> _labels = new(0);

    public ProfileBuilder(IEnumerable<ValueType> sampleTypes)
    {
        _sampleTypes = [.. sampleTypes];
    }

    public ValueType? PeriodType { get; set; }

    public long Period { get; set; }

    public long TimeNanos { get; set; }

    public long DurationNanos { get; set; }

    public string DefaultSampleType { get; set; } = "";

    public string DropFrames { get; set; } = "";

    public string KeepFrames { get; set; } = "";

    public string DocUrl { get; set; } = "";

    public int SampleCount => _sampleStacks.Count;

    public void AddComment(string comment) => _comments.Add(comment);

    /// <summary>Adds a mapping (its id is ignored: ids are assigned on writing) and returns its index.</summary>
    public int AddMapping(Mapping mapping)
    {
        Mapping key = mapping with { Id = 0 };
        if (!_mappingIndexes.TryGetValue(key, out int index))
        {
            index = _mappings.Count;
            _mappings.Add(mapping with { Id = (ulong)index + 1 });
            _mappingIndexes.Add(key, index);
        }

        return index;
    }

    public int AddFunction(string name, string systemName = "", string fileName = "", long startLine = 0)
    {
        var key = new Function(0, name, systemName, fileName, startLine);
        if (!_functionIndexes.TryGetValue(key, out int index))
        {
            index = _functions.Count;
            _functions.Add(key with { Id = (ulong)index + 1 });
            _functionIndexes.Add(key, index);
        }

        return index;
    }

    /// <summary>Adds a location whose lines list the innermost inlined frame first; -1 = no mapping.</summary>
    public int AddLocation(ReadOnlySpan<Line> lines, int mappingIndex = -1, ulong address = 0, bool isFolded = false)
    {
        foreach (Line line in lines)
        {
            if (line.FunctionIndex < -1 || line.FunctionIndex >= _functions.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(lines), line.FunctionIndex, "no such function index");
            }
        }

        if (mappingIndex < -1 || mappingIndex >= _mappings.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(mappingIndex), mappingIndex, "no such mapping index");
        }

        var key = new LocationKey(mappingIndex, address, isFolded, [.. lines]);
        if (!_locationIndexes.TryGetValue(key, out int index))
        {
            index = _locations.Count;
            _locations.Add(new Location((ulong)index + 1, mappingIndex, address, isFolded, _lines.Count, lines.Length));
            _lines.AddRange(lines);
            _locationIndexes.Add(key, index);
        }

        return index;
    }

    /// <summary>Adds a sample: location indexes leaf first, one value per sample type.</summary>
    public void AddSample(ReadOnlySpan<int> locationIndexes, ReadOnlySpan<long> values, ReadOnlySpan<Label> labels = default)
    {
        if (values.Length != _sampleTypes.Length)
        {
            throw new ArgumentException($"a sample needs {_sampleTypes.Length} values, got {values.Length}", nameof(values));
        }

        foreach (int location in locationIndexes)
        {
            if ((uint)location >= (uint)_locations.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(locationIndexes), location, "no such location index");
            }
        }

        if (!labels.IsEmpty && _labelStarts.Count == 0)
        {
            for (int i = 0; i <= _sampleStacks.Count; i++)
            {
                _labelStarts.Add(0);
            }
        }
        else if (_labelStarts.Count > 0)
        {
            _labelStarts.Add(_labels.Count);
        }

        _labels.AddRange(labels);
        _values.AddRange(values);
        Span<ulong> ids = locationIndexes.Length <= 128 ? stackalloc ulong[locationIndexes.Length] : new ulong[locationIndexes.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = (ulong)locationIndexes[i] + 1; // ids are index + 1, as the writer numbers them
        }

        _sampleStacks.Add(_stacks.InternIds(ids));
    }

    public Profile Build()
    {
        int[]? labelStarts = null;
        if (_labelStarts.Count > 0)
        {
            labelStarts = [.. _labelStarts.AsSpan(), _labels.Count];
        }

        ulong[] locationIds = new ulong[_locations.Count];
        for (int i = 0; i < locationIds.Length; i++)
        {
            locationIds[i] = (ulong)i + 1;
        }

        _stacks.Ids = new Primitives.IdIndex(locationIds, "location", new int[locationIds.Length]);
        return new Profile(new ProfileParts
        {
            SampleTypes = [.. _sampleTypes],
            Mappings = _mappings.ToArray(),
            Functions = _functions.ToArray(),
            Locations = _locations.ToArray(),
            Lines = _lines.ToArray(),
            Comments = [.. _comments],
            Stacks = _stacks,
            SampleStacks = _sampleStacks.ToArray(),
            SampleValues = _values.ToArray(),
            SampleLabelStarts = labelStarts,
            Labels = _labels.ToArray(),
            SampleCount = _sampleStacks.Count,
            PeriodType = PeriodType,
            Period = Period,
            TimeNanos = TimeNanos,
            DurationNanos = DurationNanos,
            DefaultSampleType = DefaultSampleType,
            DropFrames = DropFrames,
            KeepFrames = KeepFrames,
            DocUrl = DocUrl,
        });
    }

    private sealed record LocationKey(int Mapping, ulong Address, bool IsFolded, Line[] Lines)
    {
        public bool Equals(LocationKey? other) =>
            other is not null && Mapping == other.Mapping && Address == other.Address && IsFolded == other.IsFolded
            && Lines.AsSpan().SequenceEqual(other.Lines);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(Mapping);
            hash.Add(Address);
            hash.Add(IsFolded);
            foreach (Line line in Lines)
            {
                hash.Add(line);
            }

            return hash.ToHashCode();
        }
    }
}
