using System.Text;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Primitives;
using ValueType = Flamewright.Pprof.Model.ValueType;
using Unsafe = System.Runtime.CompilerServices.Unsafe;

namespace Flamewright.Pprof.Decoding;

/// <summary>
/// Decodes <c>profile.proto</c> (gzip-compressed or plain) into a validated <see cref="Profile"/>.
/// The message is read in passes over the decompressed bytes, one per dependency level: strings, then
/// mappings, functions and scalars, then locations, then samples. Skipping a field costs one varint, and this
/// way every reference can be checked the moment it is read, whatever order the producer wrote fields in.
/// </summary>
internal ref struct ProfileDecoder
{
    private readonly byte[] _array;
    private readonly ReadOnlySpan<byte> _data;
    private readonly ProfileParts _parts = new();
    private readonly ModelBudget _budget;
    private string[] _strings = [];
    private IdIndex? _mappingIds;
    private IdIndex? _functionIds;
    private IdIndex? _locationIds;
    private int _sampleRecords;
    private int _functionRecords;
    private int _locationRecords;

    /// <param name="data">The protobuf bytes; <c>data.Array</c> is kept by the profile (stacks are slices of it).</param>
    /// <param name="limits">Whose model limit applies.</param>
    private ProfileDecoder(ArraySegment<byte> data, PprofLimits limits)
    {
        _budget = new ModelBudget(limits.EffectiveMaxModelBytes);
        if (data.Offset != 0)
        {
            data = data.ToArray();
        }

        _array = data.Array!;
        _data = data.AsSpan();
    }

    public static Profile Decode(ReadOnlyMemory<byte> input, PprofLimits limits)
    {
        limits.Validate();
        ReadOnlySpan<byte> span = input.Span;
        if (span.IsEmpty)
        {
            PprofFormatException.Throw("empty input: a profile has at least a string table");
        }

        if (Gunzip.IsGzip(span))
        {
            return DecodeInflated(Gunzip.Inflate(input, limits.MaxDecompressedBytes), limits);
        }

        if (span.Length > limits.MaxDecompressedBytes)
        {
            PprofFormatException.Throw(
                $"profile of {span.Length} bytes exceeds the limit of {limits.MaxDecompressedBytes} bytes (MaxDecompressedBytes)");
        }

        ArraySegment<byte> plain = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(input, out ArraySegment<byte> segment)
            ? segment
            : input.ToArray();
        return new ProfileDecoder(plain, limits).Run();
    }

    /// <summary>Decodes what a gzip stream inflated to.</summary>
    public static Profile DecodeInflated(ArraySegment<byte> inflated, PprofLimits limits)
    {
        if (Gunzip.IsGzip(inflated))
        {
            PprofFormatException.Throw("profile is gzip-compressed twice");
        }

        if (inflated.Count == 0)
        {
            PprofFormatException.Throw("gzip data inflates to nothing: a profile has at least a string table");
        }

        return new ProfileDecoder(inflated, limits).Run();
    }

    private Profile Run()
    {
        ReadStrings();
        ReadScalarsMappingsFunctions();
        ReadLocations();
        ReadSamples();
        _parts.DecodedBytes = _budget.Used;
        // The model and the decompressed bytes its stacks are slices of.
        _parts.HeldBytes = _budget.Used + _array.Length;
        return new Profile(_parts);
    }

    // ---- pass 1: the string table -------------------------------------------------------------------------

    private void ReadStrings()
    {
        var strings = new GrowableArray<string>(256);
        var reader = new ProtoReader(_data, 0);
        while (!reader.End)
        {
            int field = reader.ReadTag(out WireType wire);
            if (field != ProfileField.StringTable)
            {
                // Records counted as they are skipped size the later passes' arrays: counts of what the bytes hold,
                // never a count the profile declares.
                _sampleRecords += field == ProfileField.Sample ? 1 : 0;
                _functionRecords += field == ProfileField.Function ? 1 : 0;
                _locationRecords += field == ProfileField.Location ? 1 : 0;
                reader.Skip(wire);
                continue;
            }

            reader.Expect(wire, WireType.Len, "string_table");
            ReadOnlySpan<byte> bytes = reader.ReadBytes(out int offset);
            if (strings.Count == 0 && !bytes.IsEmpty)
            {
                PprofFormatException.Throw($"string_table[0] must be empty at byte offset {offset}");
            }

            _budget.Charge(strings.GrowthBytes + ModelBudget.String(bytes.Length), "string_table", offset);
            strings.Add(bytes.IsEmpty ? "" : Encoding.UTF8.GetString(bytes));
        }

        if (strings.Count == 0)
        {
            PprofFormatException.Throw("string table is missing: string_table[0] must be the empty string");
        }

        _budget.Charge(strings.CopyBytes, "strings", -1);
        _strings = strings.ToArray();
        _parts.StringTable = _strings;
    }

    private readonly string String(ulong index, string field, int offset)
    {
        if (index >= (ulong)_strings.Length)
        {
            PprofFormatException.Throw(
                $"{field} string index {(long)index} out of range (string table has {_strings.Length} entries) at byte offset {offset}");
        }

        return _strings[(int)index];
    }

    // ---- pass 2: scalars, sample types, mappings, functions -----------------------------------------------

    private void ReadScalarsMappingsFunctions()
    {
        var sampleTypes = new GrowableArray<ValueType>(4);
        var comments = new GrowableArray<string>(0);
        var mappings = new GrowableArray<Mapping>(4);
        var mappingIds = new GrowableArray<ulong>(4);
        var mappingOffsets = new GrowableArray<int>(4);
        // Sized by the function records counted in the first pass, and charged before they are allocated.
        _budget.Charge((long)_functionRecords * (Unsafe.SizeOf<Function>() + sizeof(ulong) + sizeof(int)), $"{_functionRecords} function records", -1);
        var functions = new GrowableArray<Function>(_functionRecords);
        var functionIds = new GrowableArray<ulong>(_functionRecords);
        var functionOffsets = new GrowableArray<int>(_functionRecords);

        var reader = new ProtoReader(_data, 0);
        while (!reader.End)
        {
            int tagOffset = reader.Offset;
            int field = reader.ReadTag(out WireType wire);
            switch (field)
            {
                case ProfileField.SampleType:
                    reader.Expect(wire, WireType.Len, "sample_type");
                    _budget.Charge(sampleTypes.GrowthBytes, "sample_type", tagOffset);
                    sampleTypes.Add(ReadValueType(reader.ReadMessage(), "sample_type"));
                    break;
                case ProfileField.PeriodType:
                    reader.Expect(wire, WireType.Len, "period_type");
                    _parts.PeriodType = ReadValueType(reader.ReadMessage(), "period_type");
                    break;
                case ProfileField.Mapping:
                    reader.Expect(wire, WireType.Len, "mapping");
                    _budget.Charge(mappings.GrowthBytes + mappingIds.GrowthBytes + mappingOffsets.GrowthBytes, "mapping", tagOffset);
                    mappingOffsets.Add(tagOffset);
                    mappings.Add(ReadMapping(reader.ReadMessage()));
                    mappingIds.Add(mappings.AsSpan()[^1].Id);
                    break;
                case ProfileField.Function:
                    reader.Expect(wire, WireType.Len, "function");
                    _budget.Charge(functions.GrowthBytes + functionIds.GrowthBytes + functionOffsets.GrowthBytes, "function", tagOffset);
                    functionOffsets.Add(tagOffset);
                    functions.Add(ReadFunction(reader.ReadMessage()));
                    functionIds.Add(functions.AsSpan()[^1].Id);
                    break;
                case ProfileField.DropFrames:
                    _parts.DropFrames = ReadStringIndex(ref reader, wire, "drop_frames");
                    break;
                case ProfileField.KeepFrames:
                    _parts.KeepFrames = ReadStringIndex(ref reader, wire, "keep_frames");
                    break;
                case ProfileField.TimeNanos:
                    reader.Expect(wire, WireType.Varint, "time_nanos");
                    _parts.TimeNanos = (long)reader.ReadVarint();
                    break;
                case ProfileField.DurationNanos:
                    reader.Expect(wire, WireType.Varint, "duration_nanos");
                    _parts.DurationNanos = (long)reader.ReadVarint();
                    break;
                case ProfileField.Period:
                    reader.Expect(wire, WireType.Varint, "period");
                    _parts.Period = (long)reader.ReadVarint();
                    break;
                case ProfileField.Comment:
                    ReadStringIndexes(ref reader, wire, "comment", ref comments);
                    break;
                case ProfileField.DefaultSampleType:
                    _parts.DefaultSampleType = ReadStringIndex(ref reader, wire, "default_sample_type");
                    break;
                case ProfileField.DocUrl:
                    _parts.DocUrl = ReadStringIndex(ref reader, wire, "doc_url");
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        _budget.Charge(sampleTypes.CopyBytes + comments.CopyBytes + mappings.CopyBytes + functions.TakeBytes
            + IdIndex.BytesFor(mappingIds.AsSpan()) + IdIndex.BytesFor(functionIds.AsSpan()), "mappings and functions", -1);
        _parts.SampleTypes = sampleTypes.ToArray();
        _parts.Comments = comments.ToArray();
        _parts.Mappings = mappings.ToArray();
        _parts.Functions = functions.Take();
        _mappingIds = new IdIndex(mappingIds.AsSpan(), "mapping", mappingOffsets.AsSpan());
        _functionIds = new IdIndex(functionIds.AsSpan(), "function", functionOffsets.AsSpan());
    }

    /// <summary>A repeated string-index field, packed or not (comments).</summary>
    private readonly void ReadStringIndexes(ref ProtoReader reader, WireType wire, string field, ref GrowableArray<string> into)
    {
        if (wire == WireType.Len)
        {
            var packed = reader.ReadMessage();
            while (!packed.End)
            {
                int offset = packed.Offset;
                _budget.Charge(into.GrowthBytes, field, offset);
                into.Add(String(packed.ReadVarint(), field, offset));
            }

            return;
        }

        reader.Expect(wire, WireType.Varint, field);
        int at = reader.Offset;
        _budget.Charge(into.GrowthBytes, field, at);
        into.Add(String(reader.ReadVarint(), field, at));
    }

    private readonly string ReadStringIndex(ref ProtoReader reader, WireType wire, string field)
    {
        reader.Expect(wire, WireType.Varint, field);
        int offset = reader.Offset;
        return String(reader.ReadVarint(), field, offset);
    }

    private readonly ValueType ReadValueType(ProtoReader reader, string field)
    {
        string type = "", unit = "";
        while (!reader.End)
        {
            int tag = reader.ReadTag(out WireType wire);
            switch (tag)
            {
                case ValueTypeField.Type:
                    type = ReadStringIndex(ref reader, wire, field + ".type");
                    break;
                case ValueTypeField.Unit:
                    unit = ReadStringIndex(ref reader, wire, field + ".unit");
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new ValueType(type, unit);
    }

    private readonly Mapping ReadMapping(ProtoReader reader)
    {
        ulong id = 0, start = 0, limit = 0, fileOffset = 0;
        string file = "", buildId = "";
        bool hasFunctions = false, hasFilenames = false, hasLines = false, hasInline = false;
        while (!reader.End)
        {
            int tag = reader.ReadTag(out WireType wire);
            switch (tag)
            {
                case MappingField.Id: id = Varint(ref reader, wire, "mapping.id"); break;
                case MappingField.MemoryStart: start = Varint(ref reader, wire, "mapping.memory_start"); break;
                case MappingField.MemoryLimit: limit = Varint(ref reader, wire, "mapping.memory_limit"); break;
                case MappingField.FileOffset: fileOffset = Varint(ref reader, wire, "mapping.file_offset"); break;
                case MappingField.Filename: file = ReadStringIndex(ref reader, wire, "mapping.filename"); break;
                case MappingField.BuildId: buildId = ReadStringIndex(ref reader, wire, "mapping.build_id"); break;
                case MappingField.HasFunctions: hasFunctions = Varint(ref reader, wire, "mapping.has_functions") != 0; break;
                case MappingField.HasFilenames: hasFilenames = Varint(ref reader, wire, "mapping.has_filenames") != 0; break;
                case MappingField.HasLineNumbers: hasLines = Varint(ref reader, wire, "mapping.has_line_numbers") != 0; break;
                case MappingField.HasInlineFrames: hasInline = Varint(ref reader, wire, "mapping.has_inline_frames") != 0; break;
                default: reader.Skip(wire); break;
            }
        }

        return new Mapping(id, start, limit, fileOffset, file, buildId, hasFunctions, hasFilenames, hasLines, hasInline);
    }

    private readonly Function ReadFunction(ProtoReader reader)
    {
        ulong id = 0;
        string name = "", systemName = "", file = "";
        long startLine = 0;
        while (!reader.End)
        {
            int tag = reader.ReadTag(out WireType wire);
            switch (tag)
            {
                case FunctionField.Id: id = Varint(ref reader, wire, "function.id"); break;
                case FunctionField.Name: name = ReadStringIndex(ref reader, wire, "function.name"); break;
                case FunctionField.SystemName: systemName = ReadStringIndex(ref reader, wire, "function.system_name"); break;
                case FunctionField.Filename: file = ReadStringIndex(ref reader, wire, "function.filename"); break;
                case FunctionField.StartLine: startLine = (long)Varint(ref reader, wire, "function.start_line"); break;
                default: reader.Skip(wire); break;
            }
        }

        return new Function(id, name, systemName, file, startLine);
    }

    private static ulong Varint(ref ProtoReader reader, WireType wire, string field)
    {
        reader.Expect(wire, WireType.Varint, field);
        return reader.ReadVarint();
    }

    // ---- pass 3: locations and their lines ----------------------------------------------------------------

    private void ReadLocations()
    {
        // Sized by the location records counted in the first pass, with room for a line each (a Go location has one
        // unless calls were inlined into it: the lines array then grows), charged before they are allocated.
        _budget.Charge((long)_locationRecords * (Unsafe.SizeOf<Location>() + sizeof(ulong) + sizeof(int) + Unsafe.SizeOf<Line>()),
            $"{_locationRecords} location records", -1);
        var locations = new GrowableArray<Location>(_locationRecords);
        var ids = new GrowableArray<ulong>(_locationRecords);
        var offsets = new GrowableArray<int>(_locationRecords);
        var lines = new GrowableArray<Line>(_locationRecords);
        var reader = new ProtoReader(_data, 0);
        while (!reader.End)
        {
            int tagOffset = reader.Offset;
            int field = reader.ReadTag(out WireType wire);
            if (field != ProfileField.Location)
            {
                reader.Skip(wire);
                continue;
            }

            reader.Expect(wire, WireType.Len, "location");
            _budget.Charge(locations.GrowthBytes + ids.GrowthBytes + offsets.GrowthBytes, "location", tagOffset);
            Location location = ReadLocation(reader.ReadMessage(), ref lines);
            locations.Add(location);
            ids.Add(location.Id);
            offsets.Add(tagOffset);
        }

        _budget.Charge(locations.TakeBytes + lines.TakeBytes + IdIndex.BytesFor(ids.AsSpan()), "locations", -1);
        _parts.Locations = locations.Take();
        _parts.Lines = lines.Take();
        _locationIds = new IdIndex(ids.AsSpan(), "location", offsets.AsSpan());
    }

    private readonly Location ReadLocation(ProtoReader reader, ref GrowableArray<Line> lines)
    {
        ulong id = 0, address = 0;
        int mapping = -1;
        bool folded = false;
        int firstLine = lines.Count;
        while (!reader.End)
        {
            int fieldOffset = reader.Offset;
            int tag = reader.ReadTag(out WireType wire);
            switch (tag)
            {
                case LocationField.Id:
                    id = Varint(ref reader, wire, "location.id");
                    break;
                case LocationField.MappingId:
                    int at = reader.Offset;
                    ulong mappingId = Varint(ref reader, wire, "location.mapping_id");
                    mapping = mappingId == 0 ? -1 : _mappingIds!.Find(mappingId);
                    if (mappingId != 0 && mapping < 0)
                    {
                        PprofFormatException.Throw($"location refers to missing mapping id {mappingId} at byte offset {at}");
                    }

                    break;
                case LocationField.Address:
                    address = Varint(ref reader, wire, "location.address");
                    break;
                case LocationField.Line:
                    reader.Expect(wire, WireType.Len, "location.line");
                    _budget.Charge(lines.GrowthBytes, "location.line", fieldOffset);
                    lines.Add(ReadLine(reader.ReadMessage()));
                    break;
                case LocationField.IsFolded:
                    folded = Varint(ref reader, wire, "location.is_folded") != 0;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new Location(id, mapping, address, folded, firstLine, lines.Count - firstLine);
    }

    private readonly Line ReadLine(ProtoReader reader)
    {
        int function = -1;
        long line = 0, column = 0;
        while (!reader.End)
        {
            int tag = reader.ReadTag(out WireType wire);
            switch (tag)
            {
                case LineField.FunctionId:
                    int at = reader.Offset;
                    ulong functionId = Varint(ref reader, wire, "line.function_id");
                    function = functionId == 0 ? -1 : _functionIds!.Find(functionId);
                    if (functionId != 0 && function < 0)
                    {
                        PprofFormatException.Throw($"line refers to missing function id {functionId} at byte offset {at}");
                    }

                    break;
                case LineField.Line:
                    line = (long)Varint(ref reader, wire, "line.line");
                    break;
                case LineField.Column:
                    column = (long)Varint(ref reader, wire, "line.column");
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new Line(function, line, column);
    }

    // ---- pass 4: samples ----------------------------------------------------------------------------------

    private void ReadSamples()
    {
        int valueCount = _parts.SampleTypes.Length;
        // Sized by the sample records actually present in the bytes (counted in the first pass), not by any count
        // the profile declares, and charged before they are allocated.
        int presizedStacks = StackTable.PresizeFor(_sampleRecords);
        int presizedValues = (int)Math.Min((long)_sampleRecords * valueCount, _data.Length); // a value takes a byte at least
        _budget.Charge(((long)presizedStacks * ModelBudget.PresizedStack) + (4L * _sampleRecords) + (8L * presizedValues), $"{_sampleRecords} sample records", -1);
        var stacks = new StackTable(_array, _sampleRecords) { Ids = _locationIds! };
        var sampleStacks = new GrowableArray<int>(_sampleRecords);
        var values = new GrowableArray<long>(presizedValues);
        var labelStarts = new GrowableArray<int>(0);
        var labels = new GrowableArray<Label>(0);
        var ids = new GrowableArray<ulong>(64);
        var reader = new ProtoReader(_data, 0);
        while (!reader.End)
        {
            int tagOffset = reader.Offset;
            int field = reader.ReadTag(out WireType wire);
            if (field != ProfileField.Sample)
            {
                reader.Skip(wire);
                continue;
            }

            reader.Expect(wire, WireType.Len, "sample");
            int sampleIndex = sampleStacks.Count;
            ids.Clear();
            int packedRuns = 0, packedOffset = 0, packedLength = 0;
            bool unpacked = false;
            int valuesBefore = values.Count;
            int labelsBefore = labels.Count;
            var sample = reader.ReadMessage();
            while (!sample.End)
            {
                int fieldOffset = sample.Offset;
                int tag = sample.ReadTag(out WireType sampleWire);
                switch (tag)
                {
                    case SampleField.LocationId:
                        // The common case is one packed run, which the stack table references in place; any other
                        // shape (unpacked ids, several runs) is collected into a list of ids.
                        bool firstRunOnly = packedRuns == 1 && !unpacked;
                        if (firstRunOnly)
                        {
                            CollectIds(new ProtoReader(_data.Slice(packedOffset, packedLength), packedOffset), ref ids);
                        }

                        if (sampleWire == WireType.Len)
                        {
                            ReadOnlySpan<byte> packed = sample.ReadBytes(out int runOffset);
                            var run = new ProtoReader(packed, runOffset);
                            CheckLocationIds(run, sampleIndex);
                            if (packedRuns == 0 && !unpacked)
                            {
                                (packedOffset, packedLength) = (runOffset, packed.Length);
                            }
                            else
                            {
                                CollectIds(run, ref ids);
                            }

                            packedRuns++;
                        }
                        else
                        {
                            sample.Expect(sampleWire, WireType.Varint, "sample.location_id");
                            unpacked = true;
                            int at = sample.Offset;
                            _budget.Charge(ModelBudget.UnpackedId, "sample.location_id", at);
                            ids.Add(sample.ReadVarint());
                            Resolve(_locationIds!, ids.AsSpan()[^1], sampleIndex, at);
                        }

                        break;
                    case SampleField.Value:
                        ReadValues(ref sample, sampleWire, ref values, presizedValues);
                        break;
                    case SampleField.Label:
                        sample.Expect(sampleWire, WireType.Len, "sample.label");
                        _budget.Charge(labels.GrowthBytes, "sample.label", fieldOffset);
                        labels.Add(ReadLabel(sample.ReadMessage()));
                        break;
                    default:
                        sample.Skip(sampleWire);
                        break;
                }
            }

            if (values.Count - valuesBefore != valueCount)
            {
                PprofFormatException.Throw(
                    $"sample {sampleIndex} has {values.Count - valuesBefore} values but the profile has {valueCount} sample types at byte offset {tagOffset}");
            }

            if (labels.Count > labelsBefore && labelStarts.Count == 0)
            {
                // The first labelled sample: every earlier sample had none. From here every sample record has a
                // start, and one more ends the last: room for all of them at once.
                _budget.Charge(4L * (_sampleRecords + 1), "sample.label", tagOffset);
                labelStarts = new GrowableArray<int>(_sampleRecords + 1);
                for (int i = 0; i <= sampleIndex; i++)
                {
                    labelStarts.Add(0);
                }
            }
            else if (labelStarts.Count > 0)
            {
                _budget.Charge(labelStarts.GrowthBytes, "sample", tagOffset);
                labelStarts.Add(labelsBefore);
            }

            // One packed field is a run of the profile's own bytes: the stack table points at it, copying nothing.
            int stacksBefore = stacks.Count;
            sampleStacks.Add(packedRuns == 1 && !unpacked
                ? stacks.InternSlice(packedOffset, packedLength)
                : stacks.InternIds(ids.AsSpan()));
            if (stacks.Count > stacksBefore && stacks.Count > presizedStacks)
            {
                _budget.Charge(ModelBudget.Stack, "sample", tagOffset); // a new stack beyond the pre-sized ones
            }
        }

        if (valueCount == 0 && sampleStacks.Count > 0)
        {
            // Samples weigh nothing without a sample type, and every analysis would fail on the profile later; go tool
            // pprof refuses it too ("missing sample type information").
            PprofFormatException.Throw($"the profile has {sampleStacks.Count} samples but no sample types");
        }

        if (labelStarts.Count > 0)
        {
            _budget.Charge(labelStarts.GrowthBytes, "labels", -1);
            labelStarts.Add(labels.Count);
        }

        _parts.Stacks = stacks;
        _parts.SampleCount = sampleStacks.Count;
        _parts.SampleStacks = sampleStacks.Items;
        _parts.SampleValues = values.Items;
        _budget.Charge(labelStarts.TakeBytes + labels.TakeBytes, "labels", -1);
        _parts.SampleLabelStarts = labelStarts.Count > 0 ? labelStarts.Take() : null;
        _parts.Labels = labels.Take();
    }

    /// <summary>Checks that every id of a packed run names a location.</summary>
    /// <remarks>The hottest loop of decoding: one pass over the bytes, no reader calls per id.</remarks>
    private readonly void CheckLocationIds(ProtoReader packed, int sampleIndex)
    {
        ReadOnlySpan<byte> run = packed.Remaining;
        IdIndex locations = _locationIds!;
        int i = 0;
        while (i < run.Length)
        {
            int start = i;
            ulong id = run[i++];
            if (id >= 0x80)
            {
                id &= 0x7F;
                int shift = 7;
                while (true)
                {
                    if (i >= run.Length || shift > 63)
                    {
                        packed.ThrowAt(start, "truncated or overlong varint in sample.location_id");
                    }

                    ulong b = run[i++];
                    id |= (b & 0x7F) << shift;
                    if (b < 0x80)
                    {
                        break;
                    }

                    shift += 7;
                }
            }

            if (!locations.Contains(id))
            {
                Resolve(locations, id, sampleIndex, packed.Offset + start);
            }
        }
    }

    private static void CollectIds(ProtoReader run, ref GrowableArray<ulong> into)
    {
        while (!run.End)
        {
            into.Add(run.ReadVarint());
        }
    }

    private static int Resolve(IdIndex ids, ulong id, int sampleIndex, int offset)
    {
        int index = ids.Find(id);
        if (index < 0)
        {
            PprofFormatException.Throw($"sample {sampleIndex} refers to missing location id {id} at byte offset {offset}");
        }

        return index;
    }

    /// <summary>Reads one sample's values; those beyond the <paramref name="presized"/> ones are charged as they come.</summary>
    private readonly void ReadValues(ref ProtoReader sample, WireType wire, ref GrowableArray<long> into, int presized)
    {
        if (wire == WireType.Len)
        {
            ProtoReader packed = sample.ReadMessage();
            while (!packed.End)
            {
                if (into.Count >= presized)
                {
                    _budget.Charge(into.GrowthBytes, "sample.value", packed.Offset);
                }

                into.Add((long)packed.ReadVarint());
            }

            return;
        }

        sample.Expect(wire, WireType.Varint, "sample.value");
        if (into.Count >= presized)
        {
            _budget.Charge(into.GrowthBytes, "sample.value", sample.Offset);
        }

        into.Add((long)sample.ReadVarint());
    }

    private readonly Label ReadLabel(ProtoReader reader)
    {
        string key = "";
        string? str = null, unit = null;
        long num = 0;
        while (!reader.End)
        {
            int tag = reader.ReadTag(out WireType wire);
            switch (tag)
            {
                case LabelField.Key:
                    key = ReadStringIndex(ref reader, wire, "label.key");
                    break;
                case LabelField.Str:
                    int at = reader.Offset;
                    ulong index = Varint(ref reader, wire, "label.str");
                    str = index == 0 ? null : String(index, "label.str", at);
                    break;
                case LabelField.Num:
                    num = (long)Varint(ref reader, wire, "label.num");
                    break;
                case LabelField.NumUnit:
                    string u = ReadStringIndex(ref reader, wire, "label.num_unit");
                    unit = u.Length == 0 ? null : u;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new Label(key, str, num, unit);
    }
}
