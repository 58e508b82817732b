using System.Text;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Primitives;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Digest;

/// <summary>
/// A profile in the form analyses read fastest: what <see cref="Profile"/> holds, already resolved and with its
/// distinct stacks sorted root first so that each is written as the part it does not share with the one before. It
/// is made once, when a profile is received, and read instead of the pprof bytes: no gunzip, no protobuf, no
/// interning of stacks. The format is described in docs/digest.md.
/// </summary>
/// <remarks>
/// Reading a digest gives back the profile it was written from: the same sample types, mappings, functions,
/// locations, lines, labels and sample values, in the same order except for the distinct stacks (sorted) and the
/// samples (ordered by their stack). Every analysis sums over stacks, so every analysis gives the same answer on both.
/// </remarks>
public static class ProfileDigest
{
    /// <summary>The format this build writes and reads; a digest of another version is rebuilt, never read.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>"FWDG": the first bytes of every profile digest.</summary>
    private const uint Magic = 0x47445746;

    /// <summary>Writes the digest of <paramref name="profile"/>.</summary>
    public static byte[] Write(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var strings = new StringTable();
        // 0 stands for null; a string's number is its position in the table plus one.
        int S(string? value) => value is null ? 0 : strings.Index(value) + 1;

        // The parts that name strings are written first, so that the string table can lead; the two are joined in the
        // digest's own array. About 16 bytes per stack and per sample are a fair first guess of their size.
        var parts = new VarintWriter((int)Math.Min(16L * (profile.StackCount + profile.SampleCount) + 4096, 1 << 26));
        ReadOnlySpan<ValueType> types = profile.SampleTypes;
        parts.Count(types.Length);
        foreach (ValueType type in types)
        {
            parts.Unsigned((ulong)S(type.Type));
            parts.Unsigned((ulong)S(type.Unit));
        }

        parts.Unsigned(profile.PeriodType is ValueType periodType ? (ulong)S(periodType.Type) : 0);
        parts.Unsigned(profile.PeriodType is ValueType periodUnit ? (ulong)S(periodUnit.Unit) : 0);
        parts.Signed(profile.Period);
        parts.Signed(profile.TimeNanos);
        parts.Signed(profile.DurationNanos);
        parts.Unsigned((ulong)S(profile.DropFrames));
        parts.Unsigned((ulong)S(profile.KeepFrames));
        parts.Unsigned((ulong)S(profile.DefaultSampleType));
        parts.Unsigned((ulong)S(profile.DocUrl));
        parts.Count(profile.Comments.Length);
        foreach (string comment in profile.Comments)
        {
            parts.Unsigned((ulong)S(comment));
        }

        parts.Count(profile.Mappings.Length);
        foreach (Mapping m in profile.Mappings)
        {
            parts.Unsigned(m.Id);
            parts.Unsigned(m.MemoryStart);
            parts.Unsigned(m.MemoryLimit);
            parts.Unsigned(m.FileOffset);
            parts.Unsigned((ulong)S(m.FileName));
            parts.Unsigned((ulong)S(m.BuildId));
            parts.Unsigned((m.HasFunctions ? 1u : 0) | (m.HasFileNames ? 2u : 0) | (m.HasLineNumbers ? 4u : 0) | (m.HasInlineFrames ? 8u : 0));
        }

        parts.Count(profile.Functions.Length);
        foreach (Function f in profile.Functions)
        {
            parts.Unsigned(f.Id);
            parts.Unsigned((ulong)S(f.Name));
            parts.Unsigned((ulong)S(f.SystemName));
            parts.Unsigned((ulong)S(f.FileName));
            parts.Signed(f.StartLine);
        }

        ReadOnlySpan<Line> lines = profile.Lines;
        parts.Count(profile.Locations.Length);
        foreach (Location l in profile.Locations)
        {
            parts.Unsigned(l.Id);
            parts.Unsigned((ulong)(l.MappingIndex + 1));
            parts.Unsigned(l.Address);
            parts.Unsigned(l.IsFolded ? 1u : 0);
            parts.Count(l.LineCount);
            foreach (Line line in lines.Slice(l.FirstLine, l.LineCount))
            {
                parts.Unsigned((ulong)(line.FunctionIndex + 1));
                parts.Signed(line.LineNumber);
                parts.Signed(line.Column);
            }
        }

        int[] order = WriteStacks(profile, parts);
        WriteSamples(profile, order, parts, S);

        var stringTable = new VarintWriter(4096);
        stringTable.Count(strings.Strings.Count);
        foreach (string value in strings.Strings)
        {
            stringTable.Text(value);
        }

        return DigestFrame.Wrap(Magic, FormatVersion, stringTable.Written, parts.Written);
    }

    /// <summary>
    /// Writes the distinct stacks sorted root first, each as how many root-side locations it shares with the one
    /// before, how many follow, and those (location index plus one); returns the old index of each written stack.
    /// </summary>
    private static int[] WriteStacks(Profile profile, VarintWriter output)
    {
        // Every stack's locations root first, one after another, in an array of exactly their number: for a million
        // stacks that is the digest's largest allocation.
        int count = profile.StackCount;
        var starts = new int[count + 1];
        long total = 0;
        for (int s = 0; s < count; s++)
        {
            starts[s] = checked((int)total);
            total += profile.StackDepth(s);
        }

        starts[count] = checked((int)total);
        var locations = new int[total];
        for (int s = 0; s < count; s++)
        {
            profile.ReadStackRootFirst(s, locations.AsSpan(starts[s], starts[s + 1] - starts[s]));
        }

        var order = new int[count];
        for (int s = 0; s < count; s++)
        {
            order[s] = s;
        }

        order.AsSpan().Sort(new RootFirstOrder(locations, starts));

        output.Count(count);
        ReadOnlySpan<int> previous = default;
        foreach (int s in order)
        {
            ReadOnlySpan<int> stack = locations.AsSpan(starts[s], starts[s + 1] - starts[s]);
            int shared = stack.CommonPrefixLength(previous);
            output.Count(shared);
            output.Count(stack.Length - shared);
            foreach (int location in stack[shared..])
            {
                output.Unsigned((ulong)location + 1);
            }

            previous = stack;
        }

        return order;
    }

    /// <summary>
    /// Writes the samples ordered by their stack's new index: each as the step from the previous sample's stack, its
    /// label set (0 for none) and its values; the distinct label sets first.
    /// </summary>
    private static void WriteSamples(Profile profile, int[] order, VarintWriter output, Func<string?, int> strings)
    {
        var newIndex = new int[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            newIndex[order[i]] = i;
        }

        // Samples by their stack's new index, in their own order within a stack (a counting sort).
        ReadOnlySpan<int> sampleStacks = profile.SampleStacks;
        var firstOfStack = new int[order.Length + 1];
        foreach (int stack in sampleStacks)
        {
            firstOfStack[newIndex[stack] + 1]++;
        }

        for (int i = 1; i < firstOfStack.Length; i++)
        {
            firstOfStack[i] += firstOfStack[i - 1];
        }

        var sorted = new (int Stack, int Sample)[sampleStacks.Length];
        for (int i = 0; i < sampleStacks.Length; i++)
        {
            int stack = newIndex[sampleStacks[i]];
            sorted[firstOfStack[stack]++] = (stack, i);
        }


        var labelSets = new Dictionary<string, int>(StringComparer.Ordinal);
        var labelSetBytes = new VarintWriter(256);
        var sampleLabelSet = new int[sampleStacks.Length];
        var key = new StringBuilder();
        for (int i = 0; i < sampleLabelSet.Length; i++)
        {
            ReadOnlySpan<Label> labels = profile.LabelsOf(i);
            if (labels.IsEmpty)
            {
                continue;
            }

            key.Clear();
            foreach (Label label in labels)
            {
                // Each part with its length before it, so that no two label sets give the same key.
                key.Append(label.Key.Length).Append(':').Append(label.Key)
                    .Append(label.Str?.Length ?? -1).Append(':').Append(label.Str)
                    .Append(label.Num.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(';')
                    .Append(label.NumUnit?.Length ?? -1).Append(':').Append(label.NumUnit);
            }

            string text = key.ToString();
            if (!labelSets.TryGetValue(text, out int set))
            {
                set = labelSets.Count + 1;
                labelSets.Add(text, set);
                labelSetBytes.Count(labels.Length);
                foreach (Label label in labels)
                {
                    labelSetBytes.Unsigned((ulong)strings(label.Key));
                    labelSetBytes.Unsigned((ulong)strings(label.Str));
                    labelSetBytes.Signed(label.Num);
                    labelSetBytes.Unsigned((ulong)strings(label.NumUnit));
                }
            }

            sampleLabelSet[i] = set;
        }

        output.Count(labelSets.Count);
        output.Raw(labelSetBytes.Written);
        output.Count(sorted.Length);
        int previousStack = 0;
        foreach ((int stack, int sample) in sorted)
        {
            output.Count(stack - previousStack);
            previousStack = stack;
            output.Count(sampleLabelSet[sample]);
            foreach (long value in profile.ValuesOf(sample))
            {
                output.Signed(value);
            }
        }
    }

    /// <summary>Orders stacks (given as indexes into their root-first locations) by their locations.</summary>
    private readonly struct RootFirstOrder(int[] locations, int[] starts) : IComparer<int>
    {
        public int Compare(int a, int b) => locations.AsSpan(starts[a], starts[a + 1] - starts[a])
            .SequenceCompareTo(locations.AsSpan(starts[b], starts[b + 1] - starts[b]));
    }

    /// <summary>
    /// Reads what a first look needs of a digest (<see cref="DigestStacks"/>): no stack is expanded and no sample kept.
    /// </summary>
    /// <exception cref="DigestException">Not a digest, another format version, a checksum that does not match, or bytes that do not read.</exception>
    public static DigestStacks ReadStacks(byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return ReadBody(digest, body => new DigestReader(body).ReadForStacks(digest));
    }

    /// <summary>Reads a digest back into the profile it was written from.</summary>
    /// <exception cref="DigestException">Not a digest, another format version, a checksum that does not match, or bytes that do not read.</exception>
    public static Profile Read(ReadOnlySpan<byte> digest)
    {
        long length = digest.Length;
        return ReadBody(digest, body => new DigestReader(body).ReadProfile(length));
    }

    private delegate T BodyReader<T>(ReadOnlySpan<byte> body);

    /// <summary>The digest's body, checked, read by <paramref name="read"/>; whatever does not read is a <see cref="DigestException"/>.</summary>
    private static T ReadBody<T>(ReadOnlySpan<byte> digest, BodyReader<T> read)
    {
        ReadOnlySpan<byte> body = DigestFrame.Unwrap(digest, Magic, FormatVersion, "profile digest");
        try
        {
            return read(body);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException or OverflowException or InvalidOperationException or PprofFormatException)
        {
            throw new DigestException("digest does not read: " + e.Message, e);
        }
    }

    private ref struct DigestReader(ReadOnlySpan<byte> bytes)
    {
        private VarintReader _in = new(bytes);
        private string[] _strings = [];

        public Profile ReadProfile(long digestBytes)
        {
            ProfileParts parts = ReadNames();
            parts.Stacks = ReadStacks(parts.Locations.Length);
            ReadSamples(parts, parts.SampleTypes.Length);
            _in.End("its samples");

            // What the model holds: the text of the digest (names), its expanded stacks and its arrays.
            parts.DecodedBytes = digestBytes + parts.Stacks.HeldBytes + (long)parts.SampleCount * (4 + 8 * parts.SampleTypes.Length)
                + (long)parts.Labels.Length * 32 + (long)parts.Locations.Length * 40 + (long)parts.Lines.Length * 24;
            return new Profile(parts);
        }

        /// <summary>
        /// What a first look reads (<see cref="DigestStacks"/>): the profile without stacks and samples, where the stacks
        /// start in the body, and per stack the sums of its samples' values.
        /// </summary>
        public DigestStacks ReadForStacks(byte[] digest)
        {
            var names = new Profile(ReadNames());
            int stacksAt = _in.Position;
            int locationCount = names.Locations.Length;
            int stackCount = Count();
            int depth = 0;
            for (int s = 0; s < stackCount; s++)
            {
                // Bounded by the stack before, not by the bytes left: a deep stack shared whole takes one byte.
                int shared = Index(depth + 1);

                int added = Count();
                for (int i = 0; i < added; i++)
                {
                    if (Index(locationCount + 1) == 0)
                    {
                        throw new DigestException($"stack {s} names no location");
                    }
                }

                depth = shared + added;
            }

            // The samples: their label sets are skipped, their values summed per stack and sample type.
            int setCount = Count();
            for (int i = 0; i < setCount; i++)
            {
                int labels = Count();
                for (int l = 0; l < labels; l++)
                {
                    Text();
                    NullableText();
                    Signed();
                    NullableText();
                }
            }

            int typeCount = names.SampleTypes.Length;
            var sums = new long[checked(stackCount * typeCount)];
            var used = new bool[sums.Length];
            var absolute = new long[typeCount];
            int sampleCount = Count();
            int stack = 0;
            for (int i = 0; i < sampleCount; i++)
            {
                stack += Count();
                if (stack >= stackCount)
                {
                    throw new DigestException($"sample {i} names stack {stack} of {stackCount}");
                }

                Index(setCount + 1);
                for (int t = 0; t < typeCount; t++)
                {
                    long value = Signed();
                    sums[stack * typeCount + t] += value;
                    used[stack * typeCount + t] |= value != 0;
                    absolute[t] += Analysis.Magnitude.Abs(value);
                }
            }

            _in.End("its samples");
            return new DigestStacks(names, digest, DigestFrame.HeaderBytes + stacksAt, stackCount, sums, used, absolute);
        }

        private ProfileParts ReadNames()
        {
            _strings = new string[Count() + 1];
            for (int i = 1; i < _strings.Length; i++)
            {
                _strings[i] = _in.Utf8();
            }

            var parts = new ProfileParts { StringTable = ["", .. _strings.AsSpan(1)] };
            var types = new ValueType[Count()];
            for (int i = 0; i < types.Length; i++)
            {
                types[i] = new ValueType(Text(), Text());
            }

            parts.SampleTypes = types;
            string? periodType = NullableText(), periodUnit = NullableText();
            parts.PeriodType = periodType is null && periodUnit is null ? null : new ValueType(periodType ?? "", periodUnit ?? "");
            parts.Period = Signed();
            parts.TimeNanos = Signed();
            parts.DurationNanos = Signed();
            parts.DropFrames = Text();
            parts.KeepFrames = Text();
            parts.DefaultSampleType = Text();
            parts.DocUrl = Text();
            var comments = new string[Count()];
            for (int i = 0; i < comments.Length; i++)
            {
                comments[i] = Text();
            }

            parts.Comments = comments;
            var mappings = new Mapping[Count()];
            for (int i = 0; i < mappings.Length; i++)
            {
                ulong id = Unsigned(), start = Unsigned(), limit = Unsigned(), offset = Unsigned();
                string file = Text(), buildId = Text();
                ulong flags = Unsigned();
                mappings[i] = new Mapping(id, start, limit, offset, file, buildId, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0);
            }

            parts.Mappings = mappings;
            var functions = new Function[Count()];
            for (int i = 0; i < functions.Length; i++)
            {
                functions[i] = new Function(Unsigned(), Text(), Text(), Text(), Signed());
            }

            parts.Functions = functions;
            var locations = new Location[Count()];
            var lines = new GrowableArray<Line>(locations.Length * 2);
            for (int i = 0; i < locations.Length; i++)
            {
                ulong id = Unsigned();
                int mapping = Index(mappings.Length + 1) - 1;
                ulong address = Unsigned();
                bool folded = Unsigned() != 0;
                int lineCount = Count();
                locations[i] = new Location(id, mapping, address, folded, lines.Count, lineCount);
                for (int l = 0; l < lineCount; l++)
                {
                    lines.Add(new Line(Index(functions.Length + 1) - 1, Signed(), Signed()));
                }
            }

            parts.Locations = locations;
            parts.Lines = lines.ToArray();
            return parts;
        }

        private StackTable ReadStacks(int locationCount)
        {
            int count = Count();
            var table = StackTable.ForDistinct(count, Math.Min(_in.Remaining, 1 << 28) * 2);
            var path = new GrowableArray<int>(128);
            byte[] buffer = new byte[1024];
            for (int s = 0; s < count; s++)
            {
                // Bounded by the stack before, not by the bytes left: a deep stack shared whole takes one byte.
                int shared = Index(path.Count + 1);

                path.SetCount(shared);
                int added = Count();
                for (int i = 0; i < added; i++)
                {
                    path.Add(Index(locationCount + 1));
                }

                // The table holds stacks leaf first as varints of location index plus one (the ids of a built profile).
                ReadOnlySpan<int> rootFirst = path.AsSpan();
                if (buffer.Length < rootFirst.Length * 5)
                {
                    buffer = new byte[rootFirst.Length * 5];
                }

                int length = 0;
                for (int i = rootFirst.Length - 1; i >= 0; i--)
                {
                    uint value = (uint)rootFirst[i];
                    while (value >= 0x80)
                    {
                        buffer[length++] = (byte)(value | 0x80);
                        value >>= 7;
                    }

                    buffer[length++] = (byte)value;
                }

                table.AppendDistinct(buffer.AsSpan(0, length));
            }

            var ids = new ulong[locationCount];
            for (int i = 0; i < ids.Length; i++)
            {
                ids[i] = (ulong)i + 1;
            }

            table.Ids = new IdIndex(ids, "location", new int[ids.Length]);
            return table;
        }

        private void ReadSamples(ProfileParts parts, int typeCount)
        {
            var labelSets = new Label[Count()][];
            for (int i = 0; i < labelSets.Length; i++)
            {
                var labels = new Label[Count()];
                for (int l = 0; l < labels.Length; l++)
                {
                    labels[l] = new Label(Text(), NullableText(), Signed(), NullableText());
                }

                labelSets[i] = labels;
            }

            int count = Count();
            int stackCount = parts.Stacks.Count;
            var sampleStacks = new int[count];
            var values = new long[checked(count * typeCount)];
            int[]? labelStarts = labelSets.Length > 0 ? new int[count + 1] : null;
            var labelList = new GrowableArray<Label>(labelSets.Length > 0 ? count : 0);
            int stack = 0;
            for (int i = 0; i < count; i++)
            {
                stack += Count();
                if (stack >= stackCount)
                {
                    throw new DigestException($"sample {i} names stack {stack} of {stackCount}");
                }

                sampleStacks[i] = stack;
                int set = Index(labelSets.Length + 1);
                if (labelStarts is not null)
                {
                    labelStarts[i] = labelList.Count;
                    if (set > 0)
                    {
                        labelList.AddRange(labelSets[set - 1]);
                    }
                }

                for (int t = 0; t < typeCount; t++)
                {
                    values[i * typeCount + t] = Signed();
                }
            }

            if (labelStarts is not null)
            {
                labelStarts[count] = labelList.Count;
            }

            parts.SampleStacks = sampleStacks;
            parts.SampleValues = values;
            parts.SampleLabelStarts = labelStarts;
            parts.Labels = labelList.ToArray();
            parts.SampleCount = count;
        }

        private ulong Unsigned() => _in.Unsigned();

        private long Signed() => _in.Signed();

        private int Count() => _in.Count();

        private int Index(int limit) => _in.Index(limit);

        private string? NullableText()
        {
            int number = Index(_strings.Length);
            return number == 0 ? null : _strings[number];
        }

        private string Text() => NullableText() ?? "";
    }
}

/// <summary>
/// A digest that cannot be read: not a digest, written by another format version, or damaged. The profile it was
/// made from is the truth: build the digest again from it.
/// </summary>
public sealed class DigestException : Exception
{
    public DigestException(string message)
        : base(message)
    {
    }

    public DigestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DigestException()
        : base("invalid profile digest")
    {
    }

    /// <summary>True when the digest is sound but of another format version.</summary>
    public bool IsOtherVersion { get; init; }
}
