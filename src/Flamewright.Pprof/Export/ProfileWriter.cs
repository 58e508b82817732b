using System.IO.Compression;
using Flamewright.Pprof.Primitives;
using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Export;

/// <summary>
/// Writes a <see cref="Profile"/> as <c>profile.proto</c> (gzip-compressed by default), readable by
/// <c>go tool pprof</c>. Ids are renumbered 1..N and the string table is rebuilt from the strings in use.
/// </summary>
public static class ProfileWriter
{
    public static void Write(Profile profile, Stream output, bool gzip = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        byte[] encoded = Encode(profile);
        if (!gzip)
        {
            output.Write(encoded);
            return;
        }

        using var compressor = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        compressor.Write(encoded);
    }

    public static void WriteFile(Profile profile, string path, bool gzip = true)
    {
        using FileStream file = File.Create(path);
        Write(profile, file, gzip);
    }

    /// <summary>The uncompressed protobuf bytes.</summary>
    public static byte[] Encode(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var strings = new StringTable("");
        var output = new ProtoWriter(1 << 16);
        var message = new ProtoWriter();
        var scratch = new ProtoWriter();

        foreach (ValueType type in profile.SampleTypes)
        {
            WriteValueType(output, message, ProfileField.SampleType, type, strings);
        }

        WriteSamples(profile, output, message, scratch, strings);

        int id = 1;
        foreach (Mapping mapping in profile.Mappings)
        {
            message.Clear();
            message.VarintField(MappingField.Id, id++);
            message.VarintField(MappingField.MemoryStart, (long)mapping.MemoryStart);
            message.VarintField(MappingField.MemoryLimit, (long)mapping.MemoryLimit);
            message.VarintField(MappingField.FileOffset, (long)mapping.FileOffset);
            message.VarintField(MappingField.Filename, strings.Index(mapping.FileName));
            message.VarintField(MappingField.BuildId, strings.Index(mapping.BuildId));
            message.VarintField(MappingField.HasFunctions, mapping.HasFunctions ? 1 : 0);
            message.VarintField(MappingField.HasFilenames, mapping.HasFileNames ? 1 : 0);
            message.VarintField(MappingField.HasLineNumbers, mapping.HasLineNumbers ? 1 : 0);
            message.VarintField(MappingField.HasInlineFrames, mapping.HasInlineFrames ? 1 : 0);
            output.BytesField(ProfileField.Mapping, message.Written);
        }

        ReadOnlySpan<Line> lines = profile.Lines;
        id = 1;
        foreach (Location location in profile.Locations)
        {
            message.Clear();
            message.VarintField(LocationField.Id, id++);
            message.VarintField(LocationField.MappingId, location.MappingIndex + 1);
            message.VarintField(LocationField.Address, (long)location.Address);
            foreach (Line line in lines.Slice(location.FirstLine, location.LineCount))
            {
                scratch.Clear();
                scratch.VarintField(LineField.FunctionId, line.FunctionIndex + 1);
                scratch.VarintField(LineField.Line, line.LineNumber);
                scratch.VarintField(LineField.Column, line.Column);
                message.BytesField(LocationField.Line, scratch.Written);
            }

            message.VarintField(LocationField.IsFolded, location.IsFolded ? 1 : 0);
            output.BytesField(ProfileField.Location, message.Written);
        }

        id = 1;
        foreach (Function function in profile.Functions)
        {
            message.Clear();
            message.VarintField(FunctionField.Id, id++);
            message.VarintField(FunctionField.Name, strings.Index(function.Name));
            message.VarintField(FunctionField.SystemName, strings.Index(function.SystemName));
            message.VarintField(FunctionField.Filename, strings.Index(function.FileName));
            message.VarintField(FunctionField.StartLine, function.StartLine);
            output.BytesField(ProfileField.Function, message.Written);
        }

        output.VarintField(ProfileField.DropFrames, strings.Index(profile.DropFrames));
        output.VarintField(ProfileField.KeepFrames, strings.Index(profile.KeepFrames));
        output.VarintField(ProfileField.TimeNanos, profile.TimeNanos);
        output.VarintField(ProfileField.DurationNanos, profile.DurationNanos);
        if (profile.PeriodType is ValueType periodType)
        {
            WriteValueType(output, message, ProfileField.PeriodType, periodType, strings);
        }

        output.VarintField(ProfileField.Period, profile.Period);
        foreach (string comment in profile.Comments)
        {
            output.Tag(ProfileField.Comment, WireType.Varint);
            output.Varint((ulong)strings.Index(comment));
        }

        output.VarintField(ProfileField.DefaultSampleType, strings.Index(profile.DefaultSampleType));
        output.VarintField(ProfileField.DocUrl, strings.Index(profile.DocUrl));

        // The string table goes last: only now is every string in use known.
        foreach (string s in strings.Strings)
        {
            output.BytesField(ProfileField.StringTable, System.Text.Encoding.UTF8.GetBytes(s));
        }

        return output.Written.ToArray();
    }

    private static void WriteSamples(Profile profile, ProtoWriter output, ProtoWriter message, ProtoWriter scratch, StringTable strings)
    {
        // One scratch buffer for every stack: GetSample would allocate a copy of each sample's stack.
        var locations = new GrowableArray<int>(64);
        var ids = new long[16];
        ReadOnlySpan<int> sampleStacks = profile.SampleStacks;
        for (int i = 0; i < profile.SampleCount; i++)
        {
            message.Clear();
            locations.Clear();
            profile.ReadStack(sampleStacks[i], ref locations);
            ReadOnlySpan<int> stack = locations.AsSpan();
            if (ids.Length < stack.Length)
            {
                ids = new long[stack.Length * 2];
            }

            for (int l = 0; l < stack.Length; l++)
            {
                ids[l] = stack[l] + 1;
            }

            message.PackedField(SampleField.LocationId, ids.AsSpan(0, stack.Length), scratch);
            message.PackedField(SampleField.Value, profile.ValuesOf(i), scratch);
            foreach (Label label in profile.LabelsOf(i))
            {
                scratch.Clear();
                scratch.VarintField(LabelField.Key, strings.Index(label.Key));
                if (label.Str is not null)
                {
                    scratch.VarintField(LabelField.Str, strings.Index(label.Str));
                }
                else
                {
                    scratch.VarintField(LabelField.Num, label.Num);
                    scratch.VarintField(LabelField.NumUnit, strings.Index(label.NumUnit ?? ""));
                }

                message.BytesField(SampleField.Label, scratch.Written);
            }

            output.BytesField(ProfileField.Sample, message.Written);
        }
    }

    private static void WriteValueType(ProtoWriter output, ProtoWriter message, int field, ValueType type, StringTable strings)
    {
        message.Clear();
        message.VarintField(ValueTypeField.Type, strings.Index(type.Type));
        message.VarintField(ValueTypeField.Unit, strings.Index(type.Unit));
        output.BytesField(field, message.Written);
    }
}
