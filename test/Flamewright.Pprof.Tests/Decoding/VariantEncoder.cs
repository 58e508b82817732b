using System.Text;
using Ref = Flamewright.Pprof.Tests.Reference;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>How <see cref="VariantEncoder"/> lays out the top-level fields of a profile.</summary>
public enum FieldOrder
{
    /// <summary>By field number, as protoc-generated encoders write.</summary>
    Canonical,

    /// <summary>The string table first and the samples last: the opposite of what a one-pass reader wants.</summary>
    StringsFirstSamplesLast,

    /// <summary>Highest field number first.</summary>
    Reversed,

    /// <summary>A seeded random interleaving that keeps each repeated field's own order.</summary>
    Interleaved,
}

/// <summary>
/// Encodes the generated <see cref="Ref.Profile"/> the ways protobuf allows but protoc's encoder never chooses:
/// unpacked repeated scalars, fields in any order, unknown fields of every wire type in every message.
/// </summary>
internal sealed record VariantEncoder
{
    public const int UnknownField = 99;

    public bool Packed { get; init; } = true;

    public bool UnknownFields { get; init; }

    public FieldOrder Order { get; init; } = FieldOrder.Canonical;

    public int Seed { get; init; } = 1;

    public byte[] Encode(Ref.Profile p)
    {
        var fields = new List<(int Field, byte[] Bytes)>();
        void Add(int field, byte[] bytes) => fields.Add((field, bytes));

        foreach (Ref.ValueType t in p.SampleType)
        {
            Add(1, Message(1, ValueType(t)));
        }

        foreach (Ref.Sample s in p.Sample)
        {
            Add(2, Message(2, Sample(s)));
        }

        foreach (Ref.Mapping m in p.Mapping)
        {
            Add(3, Message(3, Mapping(m)));
        }

        foreach (Ref.Location l in p.Location)
        {
            Add(4, Message(4, Location(l)));
        }

        foreach (Ref.Function f in p.Function)
        {
            Add(5, Message(5, Function(f)));
        }

        foreach (string s in p.StringTable)
        {
            Add(6, Wire.LenField(6, Encoding.UTF8.GetBytes(s)));
        }

        Add(7, Scalar(7, p.DropFrames));
        Add(8, Scalar(8, p.KeepFrames));
        Add(9, Scalar(9, p.TimeNanos));
        Add(10, Scalar(10, p.DurationNanos));
        if (p.PeriodType is not null)
        {
            Add(11, Message(11, ValueType(p.PeriodType)));
        }

        Add(12, Scalar(12, p.Period));
        Add(13, Repeated(13, p.Comment));
        Add(14, Scalar(14, p.DefaultSampleType));
        Add(15, Scalar(15, p.DocUrl));
        if (UnknownFields)
        {
            Add(UnknownField, Unknowns());
        }

        return Wire.Concat(Arrange(fields).Select(f => f.Bytes).ToArray());
    }

    private List<(int Field, byte[] Bytes)> Arrange(List<(int Field, byte[] Bytes)> fields)
    {
        switch (Order)
        {
            case FieldOrder.Canonical:
                return fields;
            case FieldOrder.StringsFirstSamplesLast:
                return [.. fields.OrderBy(f => f.Field switch { 6 => 0, 2 => 2, _ => 1 })];
            case FieldOrder.Reversed:
                return [.. fields.OrderByDescending(f => f.Field)];
            default:
                var random = new Random(Seed);
                var queues = fields.GroupBy(f => f.Field).Select(g => new Queue<(int, byte[])>(g)).ToList();
                var result = new List<(int, byte[])>(fields.Count);
                while (queues.Count > 0)
                {
                    int pick = random.Next(queues.Count);
                    result.Add(queues[pick].Dequeue());
                    if (queues[pick].Count == 0)
                    {
                        queues.RemoveAt(pick);
                    }
                }

                return result;
        }
    }

    /// <summary>A message's fields, with unknown fields before and after them when asked for.</summary>
    private byte[] Message(int field, byte[] body) =>
        UnknownFields ? Wire.LenField(field, Unknowns(), body, Unknowns()) : Wire.LenField(field, body);

    /// <summary>Field 99 once per wire type a reader must skip: varint, fixed64, length-delimited, fixed32.</summary>
    private static byte[] Unknowns() => Wire.Concat(
        Wire.VarintField(UnknownField, -3),
        Wire.Tag(UnknownField, Wire.Fixed64Type),
        [0x0A, 0x12, 0x22, 0x02, 0x0A, 0x12, 0x22, 0x02],
        Wire.LenField(UnknownField, [0x0A, 0x02, 0x08, 0x01, 0xFF]),
        Wire.Tag(UnknownField, Wire.Fixed32Type),
        [0x12, 0x00, 0x80, 0xFF]);

    private static byte[] Scalar(int field, long value) => value == 0 ? [] : Wire.VarintField(field, value);

    private static byte[] Scalar(int field, ulong value) => Scalar(field, (long)value);

    private static byte[] Scalar(int field, bool value) => Scalar(field, value ? 1 : 0);

    private byte[] Repeated(int field, IEnumerable<long> values)
    {
        long[] all = [.. values];
        if (all.Length == 0)
        {
            return [];
        }

        return Packed ? Wire.Packed(field, all) : Wire.Concat(all.Select(v => Wire.VarintField(field, v)).ToArray());
    }

    private static byte[] ValueType(Ref.ValueType t) => Wire.Concat(Scalar(1, t.Type), Scalar(2, t.Unit));

    private byte[] Sample(Ref.Sample s) => Wire.Concat(
        Repeated(1, s.LocationId.Select(id => (long)id)),
        Repeated(2, s.Value),
        Wire.Concat(s.Label.Select(l => Message(3, Label(l))).ToArray()));

    private static byte[] Label(Ref.Label l) =>
        Wire.Concat(Scalar(1, l.Key), Scalar(2, l.Str), Scalar(3, l.Num), Scalar(4, l.NumUnit));

    private static byte[] Mapping(Ref.Mapping m) => Wire.Concat(
        Scalar(1, m.Id), Scalar(2, m.MemoryStart), Scalar(3, m.MemoryLimit), Scalar(4, m.FileOffset),
        Scalar(5, m.Filename), Scalar(6, m.BuildId), Scalar(7, m.HasFunctions), Scalar(8, m.HasFilenames),
        Scalar(9, m.HasLineNumbers), Scalar(10, m.HasInlineFrames));

    private byte[] Location(Ref.Location l) => Wire.Concat(
        Scalar(1, l.Id),
        Scalar(2, l.MappingId),
        Scalar(3, l.Address),
        Wire.Concat(l.Line.Select(line => Message(4, Wire.Concat(Scalar(1, line.FunctionId), Scalar(2, line.Line_), Scalar(3, line.Column)))).ToArray()),
        Scalar(5, l.IsFolded));

    private static byte[] Function(Ref.Function f) => Wire.Concat(
        Scalar(1, f.Id), Scalar(2, f.Name), Scalar(3, f.SystemName), Scalar(4, f.Filename), Scalar(5, f.StartLine));
}
